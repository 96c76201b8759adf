using System.Collections.Concurrent;
using System.Globalization;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;

namespace MetadataProxy.TestServers.ComputeMetadata;

/// <summary>
/// A Compute Engine VM's own metadata server on loopback Kestrel, strict like the real one: <c>Metadata-Flavor: Google</c>
/// required and echoed, <c>X-Forwarded-For</c> refused with 403, ETags, <c>recursive</c>, <c>alt</c>, and
/// <c>wait_for_change</c> with <c>last_etag</c> and <c>timeout_sec</c>. It records every request as received.
/// </summary>
public sealed class ComputeMetadataTestServer : IAsyncDisposable
{
    private readonly ComputeMetadataTree _tree = new();
    private readonly ConcurrentQueue<ReceivedRequest> _received = new();
    private readonly ConcurrentDictionary<string, BodyHold> _holds = new(StringComparer.Ordinal);
    private readonly Lock _waitGate = new();
    private TaskCompletionSource<ReceivedRequest> _nextWait = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private TaskCompletionSource<ReceivedRequest> _nextAbort = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private bool _cutBodies;
    private long _latencyTicks;
    private WebApplication? _app;

    private ComputeMetadataTestServer()
    {
    }

    public Uri BaseAddress { get; private set; } = null!;

    public IReadOnlyList<ReceivedRequest> Received => [.. _received];

    /// <summary>Real delay before every answer (the request's abort is honoured).</summary>
    public TimeSpan Latency
    {
        get => TimeSpan.FromTicks(Interlocked.Read(ref _latencyTicks));
        set => Interlocked.Exchange(ref _latencyTicks, value.Ticks);
    }

    /// <summary>Every answer promises 4 KiB of JSON, sends a few bytes of it and resets the connection.</summary>
    public bool CutBodies
    {
        get => Volatile.Read(ref _cutBodies);
        set => Volatile.Write(ref _cutBodies, value);
    }

    /// <summary>Completes when the next <c>wait_for_change</c> request starts waiting.</summary>
    public Task<ReceivedRequest> NextWaitStarted
    {
        get
        {
            lock (_waitGate)
                return _nextWait.Task;
        }
    }

    /// <summary>Completes when the next waiting request is abandoned by its client before an answer.</summary>
    public Task<ReceivedRequest> NextWaitAborted
    {
        get
        {
            lock (_waitGate)
                return _nextAbort.Task;
        }
    }

    public static async Task<ComputeMetadataTestServer> StartAsync(Socket? listenSocket = null, CancellationToken cancellationToken = default)
    {
        var server = new ComputeMetadataTestServer();
        var builder = LoopbackHost.CreateBuilder(listenSocket);
        var app = builder.Build();
        app.Run(server.HandleAsync);
        await app.StartAsync(cancellationToken);
        server._app = app;
        var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();
        server.BaseAddress = new Uri(address.Replace("[::]", "127.0.0.1", StringComparison.Ordinal).TrimEnd('/') + "/");
        return server;
    }

    /// <summary>Sets (or, with null, removes) the value at <paramref name="path"/> below <c>/computeMetadata/v1/</c>, waking waiters.</summary>
    public void Set(string path, string? value) => _tree.Set(path, value);

    /// <summary>Answers <paramref name="path"/> in two parts; see <see cref="BodyHold"/>.</summary>
    public BodyHold Hold(string path, string firstPart, string rest) => _holds[path] = new BodyHold(firstPart, rest);

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
    }

    private async Task HandleAsync(HttpContext context)
    {
        var raw = context.Features.GetRequiredFeature<IHttpRequestFeature>().RawTarget;
        var received = new ReceivedRequest(context.Request.Method, raw,
            context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase));
        _received.Enqueue(received);
        var response = context.Response;
        response.Headers["Metadata-Flavor"] = "Google";
        response.Headers.Server = "Metadata Server for VM";

        try
        {
            if (Latency > TimeSpan.Zero)
                await Task.Delay(Latency, context.RequestAborted);
            if (CutBodies)
            {
                response.ContentType = "application/json";
                response.ContentLength = 4096;
                await response.WriteAsync("{\"instance\":{\"machine-type\":", context.RequestAborted);
                await response.Body.FlushAsync(context.RequestAborted);
                context.Abort();
                return;
            }

            if (context.Request.Headers.ContainsKey("X-Forwarded-For"))
            {
                await WriteAsync(context, 403, "text/html; charset=UTF-8", "Request denied: X-Forwarded-For is not allowed.", etag: null);
                return;
            }

            const string Root = "/computeMetadata/v1/";
            var path = context.Request.Path.Value ?? "/";
            if (path.StartsWith("/computeMetadata", StringComparison.Ordinal) && context.Request.Headers["Metadata-Flavor"] != "Google")
            {
                await WriteAsync(context, 403, "text/html; charset=UTF-8", "Missing Metadata-Flavor:Google header.", etag: null);
                return;
            }

            if (!path.StartsWith(Root, StringComparison.Ordinal) && path != "/computeMetadata/v1")
            {
                await WriteAsync(context, 404, "text/html; charset=UTF-8", "Not found.", etag: null);
                return;
            }

            var key = path.Length <= Root.Length ? "" : path[Root.Length..].TrimEnd('/');
            var trailingSlash = path.EndsWith('/');
            if (_holds.TryRemove(key, out var hold))
            {
                await StreamHeldAsync(context, hold);
                return;
            }

            await AnswerAsync(context, received, key, trailingSlash);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // the client went away
        }
    }

    private async Task AnswerAsync(HttpContext context, ReceivedRequest received, string key, bool trailingSlash)
    {
        var query = context.Request.Query;
        var recursive = string.Equals(query["recursive"], "true", StringComparison.OrdinalIgnoreCase);
        var alt = ((string?)query["alt"])?.ToLowerInvariant();
        var answer = _tree.Render(key, trailingSlash, recursive, alt);
        if (string.Equals(query["wait_for_change"], "true", StringComparison.OrdinalIgnoreCase) && answer.Status == 200)
        {
            var lastETag = (string?)query["last_etag"];
            var timeout = int.TryParse(query["timeout_sec"], NumberStyles.None, CultureInfo.InvariantCulture, out var seconds) ? TimeSpan.FromSeconds(seconds) : TimeSpan.FromHours(1);
            var baseline = string.IsNullOrEmpty(lastETag) ? ETagOf(answer.Body) : lastETag;
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
            deadline.CancelAfter(timeout);
            SignalWait(received);
            try
            {
                while (ETagOf(answer.Body) == baseline)
                {
                    var changed = _tree.NextChange;
                    answer = _tree.Render(key, trailingSlash, recursive, alt);
                    if (ETagOf(answer.Body) != baseline)
                        break;
                    await changed.WaitAsync(deadline.Token);
                    answer = _tree.Render(key, trailingSlash, recursive, alt);
                }
            }
            catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
            {
                SignalAbort(received);
                return;
            }
            catch (OperationCanceledException)
            {
                // timeout_sec ran out: the unchanged value, as GCE answers
            }
        }

        if (answer.Status == 301)
            context.Response.Headers.Location = answer.Body;
        await WriteAsync(context, answer.Status, answer.ContentType, answer.Body, answer.Status == 200 ? ETagOf(answer.Body) : null);
    }

    private void SignalWait(ReceivedRequest received)
    {
        lock (_waitGate)
        {
            _nextWait.TrySetResult(received);
            _nextWait = new(TaskCreationOptions.RunContinuationsAsynchronously);
        }
    }

    private void SignalAbort(ReceivedRequest received)
    {
        lock (_waitGate)
        {
            _nextAbort.TrySetResult(received);
            _nextAbort = new(TaskCreationOptions.RunContinuationsAsynchronously);
        }
    }

    private static async Task StreamHeldAsync(HttpContext context, BodyHold hold)
    {
        context.Response.StatusCode = 200;
        context.Response.ContentType = "application/text";
        await context.Response.WriteAsync(hold.FirstPart, context.RequestAborted);
        await context.Response.Body.FlushAsync(context.RequestAborted);
        await hold.Released.WaitAsync(context.RequestAborted);
        await context.Response.WriteAsync(hold.Rest, context.RequestAborted);
    }

    private static async Task WriteAsync(HttpContext context, int status, string contentType, string body, string? etag)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = contentType;
        if (etag is not null)
            context.Response.Headers.ETag = etag;
        var bytes = Encoding.UTF8.GetBytes(body);
        context.Response.ContentLength = bytes.Length;
        if (!HttpMethods.IsHead(context.Request.Method))
            await context.Response.Body.WriteAsync(bytes, context.RequestAborted);
    }

    /// <summary>GCE's ETag: 16 hex digits of a content hash.</summary>
    public static string ETagOf(string body)
    {
#pragma warning disable CA5351 // a content fingerprint, as GCE's
        return Convert.ToHexStringLower(MD5.HashData(Encoding.UTF8.GetBytes(body))[..8]);
#pragma warning restore CA5351
    }
}
