namespace MetadataProxy.TestServers.Google;

internal sealed class CallCounter
{
    private int _value;

    public int Value => Volatile.Read(ref _value);

    public void Increment() => Interlocked.Increment(ref _value);
}
