using System.Net;
using k8s;
using k8s.Autorest;
using k8s.Models;
using MetadataProxy.Identity;
using MetadataProxy.Kubernetes;
using MetadataProxy.Operations;
using MetadataProxy.ServiceAccounts;
using MetadataProxy.Tokens;
using Microsoft.Extensions.Options;

namespace MetadataProxy.PullSecrets;

/// <summary>
/// One ServiceAccount's pull Secret brought to what its annotation asks: created (empty, so the token can be bound to
/// its UID), filled with the account's own Google token at half its life, referenced once from the account; or, once
/// the annotation is gone, the reference and the Secret removed. A credential that is empty or has less than
/// <c>PullSecrets:MinimumLifetime</c> left is never written, and a failed refresh leaves the Secret as it was.
/// </summary>
internal sealed partial class PullSecretReconciler(
    IKubernetes client,
    KsaTokenSource ksaTokens,
    WorkloadIdentityExchange exchange,
    AccountReferences references,
    AccountEvents events,
    ProxyMetrics metrics,
    BackoffJitter jitter,
    IOptions<PullSecretsOptions> options,
    TimeProvider time,
    ILogger<PullSecretReconciler> logger)
{
    private const int MaxWriteAttempts = 3;

    /// <summary>
    /// A name taken by someone else's Secret is freed by deleting or renaming that Secret, which no event brings (the
    /// controller has no Secrets watch: least privilege). So the account is looked at again after 15–30 s, doubling
    /// to at most 5 min (the Events' quiet period: one Secret read and at most one Event per step), not at the resync.
    /// </summary>
    public static readonly TimeSpan NameTakenRecheck = TimeSpan.FromSeconds(30);

    public static readonly TimeSpan NameTakenRecheckMax = TimeSpan.FromMinutes(5);

    private readonly IReadOnlyList<string> _configuredHosts = RegistryHosts.Parse(options.Value.Registries, out _) ?? [];

    /// <summary>The account's state after this pass, or null when it has no pull Secret (any more).</summary>
    public async Task<AccountState?> ReconcileAsync(V1ServiceAccount account, AccountState? previous, bool managedBefore, CancellationToken term)
    {
        var secretName = PullSecretName.For(account.Metadata.Name);
        var now = time.GetUtcNow();
        var optIn = PullSecretOptIn.Read(account.Metadata.Annotations, _configuredHosts);
        if (optIn is PullSecretOptIn.Absent)
        {
            if (managedBefore || AccountReferences.Has(account, secretName))
                await RemoveAsync(account, secretName, term);
            return null;
        }

        var google = ServiceAccountAnnotations.Parse(account.Metadata.Annotations, out var annotationProblem);
        if (optIn is PullSecretOptIn.Invalid invalid || google is null)
        {
            var problem = (optIn as PullSecretOptIn.Invalid)?.Problem ?? annotationProblem!;
            events.Warn(account, "PullSecretAnnotationInvalid", $"No image pull Secret is kept for this account: {problem}.");
            return Refused(previous, now, PullSecretRefusal.AnnotationInvalid);
        }

        var hosts = ((PullSecretOptIn.Wanted)optIn).Hosts;
        var identity = google.GoogleServiceAccount ?? $"federated:{account.Metadata.NamespaceProperty}/{account.Metadata.Name}";
        var fingerprint = $"{account.Metadata.Uid}|{identity}|{string.Join(',', hosts)}";
        if (previous is { State: not PullSecretState.Refused } && previous.Fingerprint == fingerprint && previous.DueAt > now && AccountReferences.Has(account, secretName))
            return previous; // nothing is due: no API call at all

        var secret = await SecretAsync(account, secretName, term);
        if (secret is null)
        {
            events.Warn(account, "PullSecretNameTaken",
                $"Secret {secretName} exists and is not managed by metadata-proxy: rename or delete it to get an image pull Secret for this account.");
            return Refused(previous, now, PullSecretRefusal.NameTaken);
        }

        var record = ManagedSecret.Read(secret);
        if (record is { IssuedAt: { } issued, ExpiresAt: { } expires } && record.Identity == identity && record.Registries == string.Join(',', hosts)
            && now < HalfLife(issued, expires) && expires - now > options.Value.MinimumLifetime)
        {
            return await ReferencedAsync(account, secretName, term)
                ? new AccountState(PullSecretState.Current, HalfLife(issued, expires), 0, expires, fingerprint)
                : null;
        }

        var caller = new CallerIdentity(account.Metadata.NamespaceProperty, account.Metadata.Name, google.GoogleServiceAccount, options.Value.ScopeList())
        {
            ServiceAccountUid = account.Metadata.Uid,
            QuotaProject = google.QuotaProject,
        };
        var (outcome, token) = await FetchAsync(caller, secret, now, term);
        metrics.PullSecretRefresh(outcome);
        if (token is null)
        {
            var failures = (previous?.Failures ?? 0) + 1;
            var retryAt = time.GetUtcNow() + Backoff.Delay(failures, options.Value.RetryDelay, options.Value.RetryDelayMax, jitter.Next());
            Log.RefreshFailed(logger, account.Metadata.NamespaceProperty, account.Metadata.Name, outcome, failures);
            return new AccountState(PullSecretState.Failing, retryAt, failures, record.ExpiresAt is { } held && held > now ? held : null, fingerprint);
        }

        var filled = new ManagedSecret(identity, string.Join(',', hosts), now, token.ExpiresAt);
        if (!await WriteAsync(account, secret, filled, DockerConfig.For(hosts, token.Value), term))
            return null; // the account or the Secret went away meanwhile; the next pass starts over
        Log.Refreshed(logger, account.Metadata.NamespaceProperty, account.Metadata.Name, token.ExpiresAt);
        return await ReferencedAsync(account, secretName, term)
            ? new AccountState(PullSecretState.Current, HalfLife(now, token.ExpiresAt), 0, token.ExpiresAt, fingerprint)
            : null;
    }

    /// <summary>Half the credential's life: by then a Secret still holds a token with half of it left.</summary>
    private static DateTimeOffset HalfLife(DateTimeOffset issued, DateTimeOffset expires) => issued + ((expires - issued) / 2);

    /// <summary>
    /// A bad annotation is looked at again on the next resync, or at once when the account changes (its fix is an
    /// annotation change, which the watch brings); a taken name with back-off (<see cref="NameTakenRecheck"/>).
    /// </summary>
    private AccountState Refused(AccountState? previous, DateTimeOffset now, PullSecretRefusal refusal)
    {
        var held = previous?.ExpiresAt is { } expires && expires > now ? expires : (DateTimeOffset?)null;
        if (refusal == PullSecretRefusal.AnnotationInvalid)
            return new AccountState(PullSecretState.Refused, now + options.Value.ResyncInterval, 0, held, "", refusal);
        var checks = previous is { State: PullSecretState.Refused, Refusal: PullSecretRefusal.NameTaken } ? previous.Failures + 1 : 1;
        return new AccountState(PullSecretState.Refused, now + Backoff.Delay(checks, NameTakenRecheck, NameTakenRecheckMax, jitter.Next()), checks, held, "", refusal);
    }

    /// <summary>The account's Secret, created empty when missing; null when the name is taken by a Secret that is not ours.</summary>
    private async Task<V1Secret?> SecretAsync(V1ServiceAccount account, string name, CancellationToken term)
    {
        var ns = account.Metadata.NamespaceProperty;
        try
        {
            var existing = await client.CoreV1.ReadNamespacedSecretAsync(name, ns, cancellationToken: term);
            return ManagedSecret.IsOurs(existing) ? existing : null;
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
        {
            term.ThrowIfCancellationRequested();
            try
            {
                return await client.CoreV1.CreateNamespacedSecretAsync(ManagedSecret.Placeholder(account, name, options.Value.Identity!), ns, cancellationToken: term);
            }
            catch (HttpOperationException conflict) when (conflict.Response.StatusCode == HttpStatusCode.Conflict)
            {
                var raced = await client.CoreV1.ReadNamespacedSecretAsync(name, ns, cancellationToken: term);
                return ManagedSecret.IsOurs(raced) ? raced : null;
            }
        }
    }

    /// <summary>The account's own token, exchanged from a Kubernetes token bound to the Secret; or the outcome label of the failure.</summary>
    private async Task<(string Outcome, TokenOutcome.AccessToken? Token)> FetchAsync(CallerIdentity caller, V1Secret secret, DateTimeOffset now, CancellationToken term)
    {
        var bound = new V1BoundObjectReference { ApiVersion = "v1", Kind = "Secret", Name = secret.Metadata.Name, Uid = secret.Metadata.Uid };
        var ksa = await ksaTokens.CreateBoundAsync(caller, bound, term);
        if (ksa is not KsaToken.Issued issued)
        {
            var reason = (ksa as KsaToken.Refused)?.Reason ?? ((KsaToken.Unavailable)ksa).Reason;
            Log.KubernetesRefused(logger, caller.Namespace, caller.KubernetesServiceAccount, reason);
            return (ksa is KsaToken.Refused ? "kubernetes_refused" : "kubernetes_unavailable", null);
        }

        var outcome = await exchange.ExchangeAsync(caller, caller.Scopes, issued.Jwt, term);
        switch (outcome)
        {
            case TokenOutcome.AccessToken { Value.Length: > 0 } token when token.ExpiresAt - now >= options.Value.MinimumLifetime:
                return ("ok", token);
            case TokenOutcome.AccessToken:
                return ("too_short", null);
            case TokenOutcome.Refused { Reason: TokenRefusal.UpstreamRejected } rejected:
                events.Warn(new V1ServiceAccount { Metadata = new V1ObjectMeta { Name = caller.KubernetesServiceAccount, NamespaceProperty = caller.Namespace, Uid = caller.ServiceAccountUid } },
                    "PullSecretCredentialRefused", $"Google refused this account's registry credential (is it bound to its Google service account?): {rejected.Message}");
                return ("google_rejected", null);
            default:
                return ("google_unavailable", null);
        }
    }

    /// <summary>Replaces the Secret with the credential (compare-and-swap on its resourceVersion, retried on 409); never rewrites an unchanged one.</summary>
    private async Task<bool> WriteAsync(V1ServiceAccount account, V1Secret secret, ManagedSecret record, byte[] config, CancellationToken term)
    {
        var current = secret;
        for (var attempt = 1; ; attempt++)
        {
            if (current.Data?.TryGetValue(DockerConfig.Key, out var held) == true && held.AsSpan().SequenceEqual(config))
                return true;
            term.ThrowIfCancellationRequested();
            var name = current.Metadata.Name;
            var ns = current.Metadata.NamespaceProperty;
            try
            {
                await client.CoreV1.ReplaceNamespacedSecretAsync(ManagedSecret.Filled(current, account, record, config, options.Value.Identity!), name, ns, cancellationToken: term);
                return true;
            }
            catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.Conflict && attempt < MaxWriteAttempts)
            {
                metrics.PullSecretConflict();
                current = await client.CoreV1.ReadNamespacedSecretAsync(name, ns, cancellationToken: term);
                if (!ManagedSecret.IsOurs(current))
                    return false;
            }
            catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
            {
                return false;
            }
        }
    }

    private async Task<bool> ReferencedAsync(V1ServiceAccount account, string secretName, CancellationToken term)
    {
        term.ThrowIfCancellationRequested();
        return await references.AddAsync(account, secretName, term) is not null;
    }

    private async Task RemoveAsync(V1ServiceAccount account, string secretName, CancellationToken term)
    {
        term.ThrowIfCancellationRequested();
        await references.RemoveAsync(account, secretName, term);
        var ns = account.Metadata.NamespaceProperty;
        try
        {
            var secret = await client.CoreV1.ReadNamespacedSecretAsync(secretName, ns, cancellationToken: term);
            if (!ManagedSecret.IsOurs(secret))
                return;
            await client.CoreV1.DeleteNamespacedSecretAsync(secretName, ns,
                new V1DeleteOptions { Preconditions = new V1Preconditions { Uid = secret.Metadata.Uid } }, cancellationToken: term);
            Log.Removed(logger, ns, account.Metadata.Name, secretName);
        }
        catch (HttpOperationException e) when (e.Response.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.Conflict)
        {
            // Already gone, or replaced by someone else's since it was read.
        }
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Information, Message = "Refreshed the pull Secret of {Namespace}/{Account}; its token expires at {ExpiresAt:O}")]
        public static partial void Refreshed(ILogger logger, string @namespace, string account, DateTimeOffset expiresAt);

        [LoggerMessage(Level = LogLevel.Warning, Message = "Could not refresh the pull Secret of {Namespace}/{Account} ({Outcome}, failure {Failures}); it keeps what it holds")]
        public static partial void RefreshFailed(ILogger logger, string @namespace, string account, string outcome, int failures);

        [LoggerMessage(Level = LogLevel.Warning, Message = "Kubernetes did not issue a token for {Namespace}/{Account} bound to its pull Secret: {Reason}")]
        public static partial void KubernetesRefused(ILogger logger, string @namespace, string account, string reason);

        [LoggerMessage(Level = LogLevel.Information, Message = "Removed the pull Secret {Secret} of {Namespace}/{Account}: the account no longer asks for one")]
        public static partial void Removed(ILogger logger, string @namespace, string account, string secret);
    }
}
