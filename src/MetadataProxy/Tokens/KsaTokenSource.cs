using System.Net;
using k8s;
using k8s.Autorest;
using k8s.Models;
using MetadataProxy.Identity;
using MetadataProxy.Kubernetes;
using MetadataProxy.Operations;
using Microsoft.Extensions.Options;

namespace MetadataProxy.Tokens;

/// <summary>
/// Mints the caller's Kubernetes service-account token with <c>TokenRequest</c>, audience the Workload Identity
/// provider, bound to the calling pod by name and UID so that it dies with the pod (and a recreated pod with the
/// same name cannot use it).
/// </summary>
internal sealed class KsaTokenSource(
    IKubernetes client,
    KubernetesCallLimiter limiter,
    IOptions<WorkloadIdentityOptions> workloadIdentity,
    IOptions<TokenOptions> tokenOptions,
    ProxyMetrics metrics,
    TimeProvider time)
{
    public async Task<KsaToken> CreateAsync(CallerIdentity caller, CancellationToken cancellationToken)
    {
        // Every token dies with what it is bound to: the calling pod, or for the node identity the server's pod or the Node.
        var bound = caller switch
        {
            { PodName: { } pod, PodUid: { } uid } => new V1BoundObjectReference { ApiVersion = "v1", Kind = "Pod", Name = pod, Uid = uid },
            { IsNode: true, BoundNodeName: { } node } => new V1BoundObjectReference { ApiVersion = "v1", Kind = "Node", Name = node, Uid = caller.BoundNodeUid },
            _ => null,
        };
        if (bound is null)
            return new KsaToken.Refused($"{caller} is not bound to a pod; a Kubernetes service-account token is only minted for one.");
        return await CreateBoundAsync(caller, bound, cancellationToken);
    }

    /// <summary>A token bound to <paramref name="bound"/> (the pull-secret controller binds to the Secret it fills).</summary>
    public async Task<KsaToken> CreateBoundAsync(CallerIdentity caller, V1BoundObjectReference bound, CancellationToken cancellationToken)
    {
        var request = new Authenticationv1TokenRequest
        {
            ApiVersion = "authentication.k8s.io/v1",
            Kind = "TokenRequest",
            Spec = new V1TokenRequestSpec
            {
                Audiences = [workloadIdentity.Value.EffectiveTokenAudience()],
                ExpirationSeconds = (long)tokenOptions.Value.KsaTokenLifetime.TotalSeconds,
                BoundObjectRef = bound,
            },
        };
        try
        {
            using var slot = await limiter.EnterAsync(cancellationToken);
            var response = await MeasuredAsync(() => client.CoreV1.CreateNamespacedServiceAccountTokenAsync(
                request, caller.KubernetesServiceAccount, caller.Namespace, cancellationToken: cancellationToken), cancellationToken);
            var expires = response.Status?.ExpirationTimestamp;
            return string.IsNullOrEmpty(response.Status?.Token) || expires is null
                ? new KsaToken.Unavailable("the TokenRequest answer had no token")
                : new KsaToken.Issued(response.Status.Token, new DateTimeOffset(DateTime.SpecifyKind(expires.Value, DateTimeKind.Utc)));
        }
        catch (HttpOperationException e) when (e.Response.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.Conflict or HttpStatusCode.BadRequest
                                                    or HttpStatusCode.Forbidden or HttpStatusCode.UnprocessableEntity)
        {
            return new KsaToken.Refused($"the Kubernetes API refused a token for {caller} bound to {bound.Kind.ToLowerInvariant()} {bound.Name} ({(int)e.Response.StatusCode}): {StatusMessage(e)}");
        }
        catch (Exception e) when (e is HttpOperationException or HttpRequestException or IOException
                                      || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            return new KsaToken.Unavailable($"the Kubernetes API did not issue a token for {caller}: {e.Message}");
        }
    }

    /// <summary>Counts and times the TokenRequest call itself (not the wait for a Kubernetes call slot).</summary>
    private async Task<T> MeasuredAsync<T>(Func<Task<T>> call, CancellationToken cancellationToken)
    {
        var started = time.GetTimestamp();
        var outcome = "error";
        try
        {
            var result = await call();
            outcome = "ok";
            return result;
        }
        catch (HttpOperationException e)
        {
            outcome = UpstreamOutcomes.OfStatus(e.Response.StatusCode);
            throw;
        }
        catch (Exception e) when (e is OperationCanceledException or HttpRequestException or IOException)
        {
            outcome = UpstreamOutcomes.OfException(e, cancellationToken);
            throw;
        }
        finally
        {
            metrics.UpstreamCall(UpstreamOutcomes.TokenRequest, outcome, time.GetElapsedTime(started));
        }
    }

    private static string StatusMessage(HttpOperationException e)
    {
        try
        {
            return KubernetesJson.Deserialize<V1Status>(e.Response.Content)?.Message ?? e.Message;
        }
        catch (System.Text.Json.JsonException)
        {
            return e.Message;
        }
    }
}
