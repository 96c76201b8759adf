using System.Net;
using k8s;
using k8s.Autorest;
using k8s.Models;
using MetadataProxy.Operations;
using Microsoft.Extensions.Options;

namespace MetadataProxy.PullSecrets;

/// <summary>
/// Leader election on a coordination.k8s.io/v1 Lease, with client-go's semantics on the injected clock (KubernetesClient's
/// own LeaderElector reads the wall clock): every write is a compare-and-swap on the Lease's resourceVersion; a
/// follower takes over once the record it sees has not changed for <c>LeaseDuration</c> by its own clock (never
/// comparing its clock with the leader's renewTime); a leader that could not renew for <c>RenewDeadline</c> (shorter,
/// with one RetryPeriod, than the lease) stops before anyone else may start. A leader that stops releases the Lease.
/// Each term is a <see cref="CancellationToken"/> that ends when leadership does; writers act only inside one.
/// </summary>
internal sealed partial class LeaseElector(
    IKubernetes client,
    IOptions<PullSecretsOptions> options,
    TimeProvider time,
    ILogger<LeaseElector> logger) : BackgroundService, IReadinessCheck
{
    private readonly Lock _gate = new();
    private TaskCompletionSource<CancellationToken> _elected = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private CancellationTokenSource? _term;
    private string? _observedVersion;
    private DateTimeOffset _observedAt;
    private volatile bool _contacted;

    private PullSecretsOptions Options => options.Value;

    public LoopTimer Timer { get; } = new();

    public bool IsLeader
    {
        get
        {
            lock (_gate)
            {
                return _term is { IsCancellationRequested: false };
            }
        }
    }

    /// <summary>The next (or current) term: a token cancelled when it ends.</summary>
    public Task<CancellationToken> ElectedAsync(CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            return _elected.Task.WaitAsync(cancellationToken);
        }
    }

    public string? NotReadyReason() => _contacted ? null : $"the Lease {Options.Namespace}/{Options.LeaseName} has not been read yet";

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var lastRenewal = DateTimeOffset.MinValue;
        while (!stoppingToken.IsCancellationRequested)
        {
            var now = time.GetUtcNow();
            var held = await TryAcquireOrRenewAsync(now, stoppingToken);
            if (held == true)
            {
                lastRenewal = now;
                BecomeLeader();
            }
            else if (IsLeader && (held == false || now - lastRenewal >= Options.RenewDeadline))
            {
                StepDown(held == false ? "another replica holds the Lease" : $"the Lease could not be renewed for {Options.RenewDeadline}");
            }

            try
            {
                await Timer.SleepAsync(Options.RetryPeriod, time, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }

        if (IsLeader)
        {
            StepDown("the server is stopping");
            await ReleaseAsync();
        }
    }

    /// <summary>True: this replica holds the Lease now; false: another does; null: the API server could not be asked.</summary>
    private async Task<bool?> TryAcquireOrRenewAsync(DateTimeOffset now, CancellationToken stoppingToken)
    {
        using var timeout = new CancellationTokenSource(Options.RenewDeadline / 2, time);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken, timeout.Token);
        var me = Options.Identity!;
        try
        {
            V1Lease lease;
            try
            {
                lease = await client.CoordinationV1.ReadNamespacedLeaseAsync(Options.LeaseName, Options.Namespace, cancellationToken: deadline.Token);
            }
            catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
            {
                var created = new V1Lease
                {
                    ApiVersion = "coordination.k8s.io/v1",
                    Kind = "Lease",
                    Metadata = new V1ObjectMeta { Name = Options.LeaseName, NamespaceProperty = Options.Namespace },
                    Spec = Spec(me, now, now, 0),
                };
                await client.CoordinationV1.CreateNamespacedLeaseAsync(created, Options.Namespace, cancellationToken: deadline.Token);
                _contacted = true;
                return true;
            }

            _contacted = true;
            var spec = lease.Spec ?? new V1LeaseSpec();
            if (lease.Metadata.ResourceVersion != _observedVersion)
            {
                _observedVersion = lease.Metadata.ResourceVersion;
                _observedAt = now;
            }

            var mine = spec.HolderIdentity == me;
            var duration = TimeSpan.FromSeconds(spec.LeaseDurationSeconds ?? 0);
            if (!mine && !string.IsNullOrEmpty(spec.HolderIdentity) && now < _observedAt + duration)
                return false;

            var acquired = mine && spec.AcquireTime is { } since ? new DateTimeOffset(DateTime.SpecifyKind(since, DateTimeKind.Utc)) : now;
            var transitions = (spec.LeaseTransitions ?? 0) + (mine ? 0 : 1);
            lease.Spec = Spec(me, acquired, now, transitions);
            var replaced = await client.CoordinationV1.ReplaceNamespacedLeaseAsync(lease, Options.LeaseName, Options.Namespace, cancellationToken: deadline.Token);
            _observedVersion = replaced.Metadata.ResourceVersion;
            _observedAt = now;
            if (!mine)
                Log.Acquired(logger, Options.Namespace!, Options.LeaseName, spec.HolderIdentity ?? "");
            return true;
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.Conflict)
        {
            return false; // another replica wrote first: it holds the Lease now
        }
        catch (Exception e) when (e is HttpOperationException or HttpRequestException or IOException
                                      || (e is OperationCanceledException && !stoppingToken.IsCancellationRequested))
        {
            Log.Unreachable(logger, Options.Namespace!, Options.LeaseName, e.Message);
            return null;
        }
    }

    private V1LeaseSpec Spec(string holder, DateTimeOffset acquired, DateTimeOffset renewed, int transitions) => new()
    {
        HolderIdentity = holder,
        LeaseDurationSeconds = (int)Math.Ceiling(Options.LeaseDuration.TotalSeconds),
        AcquireTime = acquired.UtcDateTime,
        RenewTime = renewed.UtcDateTime,
        LeaseTransitions = transitions,
    };

    private void BecomeLeader()
    {
        lock (_gate)
        {
            if (_term is { IsCancellationRequested: false })
                return;
            _term?.Dispose();
            _term = new CancellationTokenSource();
            _elected.TrySetResult(_term.Token);
        }

        Log.Elected(logger, Options.Identity!);
    }

    private void StepDown(string why)
    {
        lock (_gate)
        {
            _elected = new TaskCompletionSource<CancellationToken>(TaskCreationOptions.RunContinuationsAsynchronously);
            _term?.Cancel();
        }

        Log.SteppedDown(logger, Options.Identity!, why);
    }

    /// <summary>Hands the Lease back (holder empty) so that a follower need not wait out the lease duration.</summary>
    private async Task ReleaseAsync()
    {
        try
        {
            using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(2), time);
            var lease = await client.CoordinationV1.ReadNamespacedLeaseAsync(Options.LeaseName, Options.Namespace, cancellationToken: deadline.Token);
            if (lease.Spec is not { } held || held.HolderIdentity != Options.Identity)
                return;
            var now = time.GetUtcNow();
            lease.Spec = Spec("", now, now, held.LeaseTransitions ?? 0);
            lease.Spec.HolderIdentity = null;
            lease.Spec.LeaseDurationSeconds = 1;
            await client.CoordinationV1.ReplaceNamespacedLeaseAsync(lease, Options.LeaseName, Options.Namespace, cancellationToken: deadline.Token);
        }
        catch (Exception e) when (e is HttpOperationException or HttpRequestException or IOException or OperationCanceledException)
        {
            Log.Unreachable(logger, Options.Namespace!, Options.LeaseName, e.Message); // the others wait out the lease instead
        }
    }

    public override void Dispose()
    {
        base.Dispose();
        _term?.Dispose();
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Information, Message = "{Identity} leads the pull-secret controller")]
        public static partial void Elected(ILogger logger, string identity);

        [LoggerMessage(Level = LogLevel.Warning, Message = "{Identity} no longer leads the pull-secret controller: {Why}")]
        public static partial void SteppedDown(ILogger logger, string identity, string why);

        [LoggerMessage(Level = LogLevel.Information, Message = "Took the Lease {Namespace}/{Lease} over from '{Previous}'")]
        public static partial void Acquired(ILogger logger, string @namespace, string lease, string previous);

        [LoggerMessage(Level = LogLevel.Warning, Message = "The Lease {Namespace}/{Lease} could not be read or written: {Error}")]
        public static partial void Unreachable(ILogger logger, string @namespace, string lease, string error);
    }
}
