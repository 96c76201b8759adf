using System.Globalization;
using k8s.Models;
using MetadataProxy.TestServers.Jwt;

namespace MetadataProxy.TestServers.Kubernetes;

/// <summary>The TokenRequest subresource, checked in the order pkg/registry/core/serviceaccount/storage/token.go
/// checks it: body identity, the ServiceAccount, static validation, the bound object, then the expiration cap.</summary>
internal sealed class ServiceAccountTokenIssuer(ClusterStore store, ServerSettings settings, JwtSigner signer)
{
    private const string Group = "authentication.k8s.io";
    private const string Kind = "TokenRequest";
    private const long DefaultExpirationSeconds = 3600;
    private const long MinExpirationSeconds = 600;
    private const long MaxExpirationSeconds = 1L << 32;

    public TokenRequestOutcome Issue(string ns, string name, Authenticationv1TokenRequest request)
    {
        if (request.Metadata?.Name is { Length: > 0 } bodyName && bodyName != name)
        {
            return KubeStatus.Invalid(Group, Kind, name, "metadata.name", Quote(bodyName), "must match the service account name if specified");
        }

        if (request.Metadata?.NamespaceProperty is { Length: > 0 } bodyNs && bodyNs != ns)
        {
            return KubeStatus.Invalid(Group, Kind, name, "metadata.namespace", Quote(bodyNs), "must match the service account namespace if specified");
        }

        if (store.GetServiceAccount(ns, name) is not { } sa)
        {
            return KubeStatus.NotFound("serviceaccounts", name);
        }

        var spec = request.Spec ?? new V1TokenRequestSpec();
        var audiences = spec.Audiences is { Count: > 0 } requested ? requested.ToList() : [settings.Issuer];
        var expirationSeconds = spec.ExpirationSeconds ?? DefaultExpirationSeconds;
        var seconds = expirationSeconds.ToString(CultureInfo.InvariantCulture);
        if (expirationSeconds < MinExpirationSeconds)
        {
            return KubeStatus.Invalid(Group, Kind, string.Empty, "spec.expirationSeconds", seconds, "may not specify a duration less than 10 minutes");
        }

        if (expirationSeconds > MaxExpirationSeconds)
        {
            return KubeStatus.Invalid(Group, Kind, string.Empty, "spec.expirationSeconds", seconds, "may not specify a duration larger than 2^32 seconds");
        }

        var binding = new TokenBinding(sa, null, null);
        if (spec.BoundObjectRef is { } reference && Bind(ns, name, reference, ref binding) is { } refused)
        {
            return refused;
        }

        string? warning = null;
        if (settings.MaxTokenExpiration is { } max && expirationSeconds > (long)max.TotalSeconds)
        {
            var capped = (long)max.TotalSeconds;
            warning = $"299 - \"requested expiration of {expirationSeconds} seconds shortened to {capped} seconds\"";
            expirationSeconds = capped;
        }

        var now = KubeObjects.Seconds(settings.Time.GetUtcNow());
        var claims = ServiceAccountClaims.Build(settings.Issuer, audiences, now, expirationSeconds, binding);
        var issued = new Authenticationv1TokenRequest
        {
            Kind = Kind,
            ApiVersion = Group + "/v1",
            Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = ns, Uid = sa.Metadata.Uid, CreationTimestamp = now },
            Spec = new V1TokenRequestSpec { Audiences = audiences, ExpirationSeconds = expirationSeconds, BoundObjectRef = spec.BoundObjectRef },
            Status = new V1TokenRequestStatus { Token = signer.Sign(claims), ExpirationTimestamp = now.AddSeconds(expirationSeconds) },
        };
        return new TokenRequestOutcome(issued, null, warning);
    }

    private V1Status? Bind(string ns, string saName, V1BoundObjectReference reference, ref TokenBinding binding)
    {
        var (group, version) = SplitApiVersion(reference.ApiVersion ?? string.Empty);
        string? uid;
        switch (group, reference.Kind)
        {
            case ("", "Pod"):
                if (store.GetPod(ns, reference.Name ?? string.Empty) is not { } pod)
                {
                    return KubeStatus.NotFound("pods", reference.Name ?? string.Empty);
                }

                if (pod.Spec?.ServiceAccountName != saName)
                {
                    return KubeStatus.BadRequest($"cannot bind token for serviceaccount \"{saName}\" to pod running with different serviceaccount name.");
                }

                uid = pod.Metadata.Uid;
                var node = pod.Spec.NodeName is { Length: > 0 } nodeName
                    ? store.GetNode(nodeName) ?? new V1Node { Metadata = new V1ObjectMeta { Name = nodeName } }
                    : null;
                binding = binding with { Pod = pod, Node = node };
                break;
            case ("", "Node"):
                if (store.GetNode(reference.Name ?? string.Empty) is not { } boundNode)
                {
                    return KubeStatus.NotFound("nodes", reference.Name ?? string.Empty);
                }

                uid = boundNode.Metadata.Uid;
                binding = binding with { Node = boundNode };
                break;
            case ("", "Secret"):
                if (store.Secrets.Get(ns, reference.Name ?? string.Empty) is not { } secret)
                {
                    return KubeStatus.NotFound("secrets", reference.Name ?? string.Empty);
                }

                uid = secret.Metadata.Uid;
                binding = binding with { Secret = secret };
                break;
            default:
                return KubeStatus.BadRequest($"cannot bind token to object of type {group}/{version}, Kind={reference.Kind}");
        }

        if (!string.IsNullOrEmpty(reference.Uid) && reference.Uid != uid)
        {
            return KubeStatus.Conflict(
                reference.Kind,
                reference.Name ?? string.Empty,
                $"the UID in the bound object reference ({reference.Uid}) does not match the UID in record. The object might have been deleted and then recreated");
        }

        return null;
    }

    private static (string Group, string Version) SplitApiVersion(string apiVersion)
    {
        var slash = apiVersion.IndexOf('/', StringComparison.Ordinal);
        return slash < 0 ? (string.Empty, apiVersion) : (apiVersion[..slash], apiVersion[(slash + 1)..]);
    }

    private static string Quote(string value) => "\"" + value + "\"";
}
