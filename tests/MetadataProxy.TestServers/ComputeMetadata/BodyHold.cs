namespace MetadataProxy.TestServers.ComputeMetadata;

/// <summary>
/// Makes the server answer one key in two parts: headers and <see cref="FirstPart"/> at once, the rest only after
/// <see cref="Release"/>, so a test sees whether a proxy streams or buffers.
/// </summary>
public sealed class BodyHold
{
    private readonly TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);

    internal BodyHold(string firstPart, string rest)
    {
        FirstPart = firstPart;
        Rest = rest;
    }

    public string FirstPart { get; }

    public string Rest { get; }

    public void Release() => _released.TrySetResult();

    internal Task Released => _released.Task;
}
