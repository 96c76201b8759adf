namespace MetadataProxy.CredentialProvider.Kubelet;

/// <summary>
/// The credentialprovider.kubelet.k8s.io versions understood. v1beta1 and v1alpha1 have v1's response shape and a
/// request with only the image (the KEP-4412 service account fields exist in v1 alone), so they are answered in kind.
/// </summary>
internal static class ApiVersions
{
    public const string V1 = "credentialprovider.kubelet.k8s.io/v1";
    public const string V1Beta1 = "credentialprovider.kubelet.k8s.io/v1beta1";
    public const string V1Alpha1 = "credentialprovider.kubelet.k8s.io/v1alpha1";

    public const string RequestKind = "CredentialProviderRequest";
    public const string ResponseKind = "CredentialProviderResponse";

    public static bool IsSupported(string apiVersion) => apiVersion is V1 or V1Beta1 or V1Alpha1;

    public static bool HasServiceAccountFields(string apiVersion) => apiVersion == V1;
}
