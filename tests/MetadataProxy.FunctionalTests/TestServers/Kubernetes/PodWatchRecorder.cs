using System.Threading.Channels;
using k8s;
using k8s.Models;

namespace MetadataProxy.FunctionalTests.TestServers.Kubernetes;

/// <summary>Runs a pod watch through the real KubernetesClient in the background and records what it yields, what
/// it reports to onError, and how the enumeration ended (null: cleanly; else the exception it threw).</summary>
internal sealed class PodWatchRecorder : IAsyncDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    private readonly Channel<(WatchEventType Type, V1Pod Pod)> _events = Channel.CreateUnbounded<(WatchEventType, V1Pod)>();
    private readonly Channel<Exception> _errors = Channel.CreateUnbounded<Exception>();
    private readonly TaskCompletionSource<Exception?> _ended = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource _stop = new();

    private PodWatchRecorder()
    {
    }

    public Task<Exception?> Ended => _ended.Task;

    public static PodWatchRecorder Start(IKubernetes client, string? fieldSelector = null, string? resourceVersion = null, bool allowWatchBookmarks = false, int? timeoutSeconds = null)
    {
        var recorder = new PodWatchRecorder();
        var stream = client.CoreV1.WatchListPodForAllNamespacesAsync(
            allowWatchBookmarks: allowWatchBookmarks,
            fieldSelector: fieldSelector,
            resourceVersion: resourceVersion,
            timeoutSeconds: timeoutSeconds,
            onError: e => recorder._errors.Writer.TryWrite(e),
            cancellationToken: recorder._stop.Token);
        _ = recorder.PumpAsync(stream);
        return recorder;
    }

    public async Task<(WatchEventType Type, V1Pod Pod)> NextAsync()
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(Patience);
        return await _events.Reader.ReadAsync(timeout.Token);
    }

    /// <summary>The next event that is not a bookmark.</summary>
    public async Task<(WatchEventType Type, V1Pod Pod)> NextChangeAsync()
    {
        while (true)
        {
            var next = await NextAsync();
            if (next.Type != WatchEventType.Bookmark)
            {
                return next;
            }
        }
    }

    public async Task<Exception> NextErrorAsync()
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(Patience);
        return await _errors.Reader.ReadAsync(timeout.Token);
    }

    public Task<Exception?> EndedWithin() => _ended.Task.WaitAsync(Patience, TestContext.Current.CancellationToken);

    public bool TryTakeEvent(out (WatchEventType Type, V1Pod Pod) next) => _events.Reader.TryRead(out next);

    public bool TryTakeError(out Exception? error) => _errors.Reader.TryRead(out error);

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _ended.Task; // never faults: PumpAsync records every ending as a result
        _stop.Dispose();
    }

    private async Task PumpAsync(IAsyncEnumerable<(WatchEventType, V1Pod)> stream)
    {
        try
        {
            await foreach (var (type, pod) in stream)
            {
                _events.Writer.TryWrite((type, pod));
            }

            _ended.TrySetResult(null);
        }
#pragma warning disable CA1031 // The recorder reports any way the enumeration ends; the test asserts on it.
        catch (Exception e)
#pragma warning restore CA1031
        {
            _ended.TrySetResult(e);
        }
    }
}
