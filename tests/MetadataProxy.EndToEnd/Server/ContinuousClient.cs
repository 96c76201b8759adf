using System.Collections.Concurrent;
using System.Diagnostics;
using MetadataProxy.EndToEnd.Lab;

namespace MetadataProxy.EndToEnd.Server;

/// <summary>
/// A pod asking 169.254.169.254 without pause, as busy applications do, until stopped: some loops reuse keep-alive
/// connections (as client libraries' pools do), others open a new connection for every request. Every answer that is
/// not 200 with the expected body counts as a failure, with what went wrong and when.
/// </summary>
public sealed class ContinuousClient : IAsyncDisposable
{
    private const string Sa = "http://169.254.169.254/computeMetadata/v1/instance/service-accounts/default";

    private readonly HttpClient _pooled;
    private readonly HttpClient _fresh;
    private readonly string _email;
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentQueue<string> _failures = new();
    private readonly ConcurrentQueue<string> _timeline = new();
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly List<Task> _loops = [];
    private long _keepAliveAnswers;
    private long _freshAnswers;
    private int _disposed;

    private ContinuousClient(NetworkNamespaceLab lab, string podNamespace, string email)
    {
        _email = email;
        _pooled = lab.CreateHttpClient(podNamespace);
        _fresh = lab.CreateHttpClient(podNamespace);
        foreach (var client in new[] { _pooled, _fresh })
        {
            client.Timeout = TimeSpan.FromSeconds(15);
            client.DefaultRequestHeaders.Add("Metadata-Flavor", "Google");
        }
    }

    public long KeepAliveAnswers => Interlocked.Read(ref _keepAliveAnswers);

    public long FreshAnswers => Interlocked.Read(ref _freshAnswers);

    public long Answers => KeepAliveAnswers + FreshAnswers;

    public IReadOnlyCollection<string> Failures => _failures;

    /// <summary>What happened when, on the client's clock, for the failure messages.</summary>
    public IReadOnlyCollection<string> Timeline => _timeline;

    /// <summary>Notes an event (the new server ready, SIGTERM) on the client's clock, with the answers so far.</summary>
    public void Mark(string what) => _timeline.Enqueue($"{_clock.Elapsed.TotalSeconds:F3}s {what} (answers so far: {Answers}, failures: {_failures.Count})");

    /// <summary>Starts <paramref name="loops"/> keep-alive loops and as many new-connection loops in <paramref name="podNamespace"/>.</summary>
    public static ContinuousClient Start(NetworkNamespaceLab lab, string podNamespace, string email, int loops)
    {
        var client = new ContinuousClient(lab, podNamespace, email);
        for (var i = 0; i < loops; i++)
        {
            client._loops.Add(Task.Run(() => client.LoopAsync(freshConnections: false)));
            client._loops.Add(Task.Run(() => client.LoopAsync(freshConnections: true)));
        }

        return client;
    }

    /// <summary>Returns once <paramref name="more"/> further requests have been answered (each loop runs flat out).</summary>
    public async Task WaitForAnswersAsync(long more, TimeSpan patience)
    {
        var target = Answers + more;
        var deadline = _clock.Elapsed + patience;
        while (Answers < target)
        {
            if (_clock.Elapsed > deadline)
                throw new TimeoutException($"Only {Answers} of {target} requests answered within {patience}; failures:\n{string.Join("\n", _failures)}");
            await Task.Delay(TimeSpan.FromMilliseconds(20), TestContext.Current.CancellationToken);
        }
    }

    /// <summary>Stops every loop and waits for it; later calls do nothing.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
            return;
        await _stop.CancelAsync();
        await Task.WhenAll(_loops);
        _pooled.Dispose();
        _fresh.Dispose();
        _stop.Dispose();
    }

    private async Task LoopAsync(bool freshConnections)
    {
        var client = freshConnections ? _fresh : _pooled;
        for (var n = 0; !_stop.IsCancellationRequested; n++)
        {
            // Alternately a value (answered from the pod index) and a cached token (the hot path).
            var token = n % 2 == 1;
            using var request = new HttpRequestMessage(HttpMethod.Get, token ? $"{Sa}/token" : $"{Sa}/email");
            if (freshConnections)
                request.Headers.ConnectionClose = true;
            var started = _clock.Elapsed;
            try
            {
                using var response = await client.SendAsync(request, _stop.Token);
                var body = await response.Content.ReadAsStringAsync(_stop.Token);
                var expected = token ? body.Contains("\"access_token\"", StringComparison.Ordinal) : body == _email;
                if (response.StatusCode != HttpStatusCode.OK || !expected)
                    _failures.Enqueue($"{started.TotalSeconds:F3}s {request.RequestUri!.AbsolutePath} fresh={freshConnections}: {(int)response.StatusCode} {body}");
                else
                    Interlocked.Increment(ref freshConnections ? ref _freshAnswers : ref _keepAliveAnswers);
            }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException)
            {
                _failures.Enqueue($"{started.TotalSeconds:F3}s {request.RequestUri!.AbsolutePath} fresh={freshConnections}: {e.GetType().Name}: {e.Message} {e.InnerException?.Message}");
            }
        }
    }
}
