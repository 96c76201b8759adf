using k8s.Models;

namespace MetadataProxy.TestServers.Kubernetes;

/// <summary>A TokenRequest answered: the issued request (201, maybe with a warning), or the error Status.</summary>
internal sealed record TokenRequestOutcome(Authenticationv1TokenRequest? Issued, V1Status? Failure, string? Warning = null)
{
    public static implicit operator TokenRequestOutcome(V1Status failure) => new(null, failure);
}
