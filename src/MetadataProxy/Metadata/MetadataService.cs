using System.Collections.Concurrent;
using System.Net;
using MetadataProxy.Identity;
using MetadataProxy.Tokens;
using Microsoft.Extensions.Options;

namespace MetadataProxy.Metadata;

/// <summary>
/// Answers one request under <c>/computeMetadata/v1/</c> from the tree: navigation, the 301/400/403/404 rules,
/// per-caller service accounts, renderings and <c>wait_for_change</c>.
/// </summary>
internal sealed class MetadataService(
    MetadataTreeSource trees,
    ICallerResolver callers,
    CredentialService credentials,
    MetadataChangeNotifier changes,
    IOptions<WorkloadIdentityOptions> workloadIdentity,
    IHostApplicationLifetime lifetime,
    TimeProvider time)
{
    /// <summary>W-10: a wait without <c>timeout_sec</c> ends after an hour with the unchanged value.</summary>
    private static readonly TimeSpan MaxWait = TimeSpan.FromHours(1);

    /// <summary>Hanging requests one caller may hold at once: one pod must not exhaust the server all pods share.</summary>
    public const int MaxWaitsPerCaller = 32;

    private readonly ConcurrentDictionary<IPAddress, int> _waits = new();
    private int _parkedWaits;
    private volatile CallerTrees? _callerTrees;

    public async Task<MetadataResult> GetAsync(MetadataRequest request, CancellationToken cancellationToken)
    {
        if (MetadataQuery.TryParse(request.Query, out var query) is { } invalid)
            return invalid;

        var first = await RenderAsync(request, query, cancellationToken);
        if (!query.WaitForChange || first is not MetadataResult.Content content)
            return first;

        // W-4: a stale or "0" last_etag answers at once; W-3: the current one waits, as does none at all (W-2).
        var baseline = query.LastETag ?? content.ETag;
        if (content.ETag != baseline)
            return first;

        if (_waits.AddOrUpdate(request.RemoteAddress, 1, (_, n) => n + 1) > MaxWaitsPerCaller)
        {
            Release(request.RemoteAddress);
            return new MetadataResult.Failure(FailureReason.TooManyRequests,
                $"More than {MaxWaitsPerCaller} wait_for_change requests from {request.RemoteAddress} at once; retry when one has answered.", TimeSpan.FromSeconds(1));
        }

        try
        {
            return await WaitAsync(request, query, baseline, cancellationToken);
        }
        finally
        {
            Release(request.RemoteAddress);
        }
    }

    /// <summary>wait_for_change requests parked on the next change right now: what a test polls to know a wait is held.</summary>
    internal int ParkedWaits => Volatile.Read(ref _parkedWaits);

    /// <summary>The per-caller trees of <paramref name="built"/>'s tree, with its own options; a new tree (configuration reloaded) starts a new set.</summary>
    private CallerTrees CallerTreesFor(MetadataTreeSource.Built built)
    {
        var (root, options) = built;
        var current = _callerTrees;
        if (current is not null && ReferenceEquals(current.Root, root))
            return current;
        var fresh = new CallerTrees(root, identity => ServiceAccountEmail.Of(identity, options.ProjectId, workloadIdentity.Value));
        _callerTrees = fresh;
        return fresh;
    }

    private void Release(IPAddress caller)
    {
        if (_waits.AddOrUpdate(caller, 0, (_, n) => n - 1) <= 0)
            _waits.TryRemove(new KeyValuePair<IPAddress, int>(caller, 0));
    }

    private async Task<MetadataResult> WaitAsync(MetadataRequest request, MetadataQuery query, string baseline, CancellationToken cancellationToken)
    {
        var deadline = time.GetUtcNow() + (query.Timeout is { } t && t < MaxWait ? t : MaxWait);
        while (true)
        {
            var changed = changes.NextChange;
            var current = await RenderAsync(request, query, cancellationToken);
            if (current is not MetadataResult.Content now || now.ETag != baseline)
                return current; // W-9: a deleted value answers 404 to its waiter.

            var remaining = deadline - time.GetUtcNow();
            if (remaining <= TimeSpan.Zero || lifetime.ApplicationStopping.IsCancellationRequested)
                return current; // W-5: a timeout is not an error; nor is a shutdown, which answers every waiter at once.
            Interlocked.Increment(ref _parkedWaits); // only on this path: a plain request never touches it
            try
            {
                await ChangeWait.ForAsync(changed, remaining, time, cancellationToken, lifetime.ApplicationStopping);
            }
            finally
            {
                Interlocked.Decrement(ref _parkedWaits);
            }
        }
    }

    private async Task<MetadataResult> RenderAsync(MetadataRequest request, MetadataQuery query, CancellationToken cancellationToken)
    {
        var built = trees.Current;
        var root = built.Tree;
        var needs = NeedsCaller(request.Segments, query.Recursive);
        if (needs != CallerNeed.None)
        {
            CallerOutcome caller;
            if (needs == CallerNeed.Full)
            {
                caller = request.NodeSocket
                    ? await callers.ResolveNodeAsync(cancellationToken)
                    : await callers.ResolveAsync(request.RemoteAddress, cancellationToken);
                if (caller is CallerOutcome.Refused refused)
                    return OutcomeMapping.ToFailure(refused);
            }
            else
            {
                // A recursive listing that merely includes the service accounts never waits (principle 4, R-3): a
                // caller not known right now sees none, and project and instance values still answer.
                caller = request.NodeSocket ? callers.ResolveNodeKnown() : callers.ResolveKnown(request.RemoteAddress);
                if (caller is CallerOutcome.Refused)
                    caller = new CallerOutcome.NoIdentity("The caller is not known right now.");
            }

            root = CallerTreesFor(built).For(caller);
        }

        MetadataNode node = root;
        foreach (var segment in request.Segments)
        {
            switch (node)
            {
                case DirectoryNode directory when directory.ConcealedKeys.Contains(segment):
                    return new MetadataResult.Failure(FailureReason.Concealed, "This metadata endpoint is concealed.");
                case DirectoryNode directory when directory.Children.TryGetValue(segment, out var child):
                    node = child;
                    break;
                case DirectoryNode directory:
                    return NotFound(request, directory.MissingChildMessage);
                default:
                    return NotFound(request, null); // D-9: no indexing into values.
            }
        }

        return node switch
        {
            DirectoryNode directory when !request.TrailingSlash =>
                new MetadataResult.Redirect(request.PathWithSlash + request.QueryString), // D-3
            DirectoryNode directory => RenderDirectory(directory, query),
            _ when request.TrailingSlash => NotFound(request, null), // D-8, TK-7
            ValueNode value => MetadataRenderer.Value(value, query.Alt),
            CredentialLeaf when query.WaitForChange =>
                new MetadataResult.Failure(FailureReason.BadRequest, "wait_for_change is not supported for service account tokens or identities."), // TK-8
            CredentialLeaf leaf => await credentials.GetAsync(leaf, query, cancellationToken),
            _ => NotFound(request, null),
        };
    }

    private static MetadataResult RenderDirectory(DirectoryNode directory, MetadataQuery query)
    {
        if (query.Recursive)
            return query.Alt == MetadataFormat.Text ? MetadataRenderer.RecursiveText(directory) : MetadataRenderer.RecursiveJson(directory);
        if (query.Alt is not null)
            return new MetadataResult.Failure(FailureReason.BadRequest, "alt is not supported on a directory listing; add recursive=true.");
        if (query.WaitForChange)
            return new MetadataResult.Failure(FailureReason.BadRequest, "wait_for_change on a directory listing needs recursive=true."); // W-7
        return MetadataRenderer.Listing(directory);
    }

    /// <summary>Only paths that show service accounts resolve the caller: listings and values elsewhere never wait.</summary>
    private static CallerNeed NeedsCaller(IReadOnlyList<string> segments, bool recursive) => segments switch
    {
        [] or ["instance"] => recursive ? CallerNeed.KnownNow : CallerNeed.None,
        ["instance", "service-accounts", ..] => CallerNeed.Full,
        _ => CallerNeed.None,
    };

    private enum CallerNeed
    {
        None,
        KnownNow,
        Full,
    }

    private static MetadataResult.Failure NotFound(MetadataRequest request, string? reason) =>
        reason is null ? MetadataResult.NotFound(request.FullPath) : new(FailureReason.NotFound, reason);
}
