using MetadataProxy.Identity;
using Microsoft.Extensions.Options;

namespace MetadataProxy.Kubernetes;

/// <summary>Caps concurrent API-server calls made on behalf of requests (decision 4: cap concurrent calls).</summary>
internal sealed class KubernetesCallLimiter(IOptions<IdentityOptions> options) : IDisposable
{
    private readonly SemaphoreSlim _slots = new(options.Value.MaxConcurrentApiCalls, options.Value.MaxConcurrentApiCalls);

    public async Task<IDisposable> EnterAsync(CancellationToken cancellationToken)
    {
        await _slots.WaitAsync(cancellationToken);
        return new Slot(_slots);
    }

    public void Dispose() => _slots.Dispose();

    private sealed class Slot(SemaphoreSlim slots) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
                slots.Release();
        }
    }
}
