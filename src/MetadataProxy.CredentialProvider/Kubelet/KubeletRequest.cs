namespace MetadataProxy.CredentialProvider.Kubelet;

/// <summary>A validated request: a supported version, an image, and the pod's KSA token when the kubelet sent one.</summary>
internal sealed record KubeletRequest(
    string ApiVersion,
    string Image,
    string? ServiceAccountToken,
    IReadOnlyDictionary<string, string>? ServiceAccountAnnotations)
{
    // The KSA token is a bearer credential for the pod: a record's generated ToString would print it.
    public override string ToString() =>
        $"KubeletRequest {{ ApiVersion = {ApiVersion}, Image = {Image}, HasServiceAccountToken = {ServiceAccountToken is not null} }}";
}
