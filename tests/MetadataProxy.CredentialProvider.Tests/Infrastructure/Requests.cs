namespace MetadataProxy.CredentialProvider.Tests.Infrastructure;

/// <summary>CredentialProviderRequest JSON as a kubelet writes it.</summary>
internal static class Requests
{
    public const string V1 = "credentialprovider.kubelet.k8s.io/v1";
    public const string KsaToken = "eyJhbGciOiJSUzI1NiJ9.the-pods-ksa-token.signature";

    public static string Node(string image = "us-docker.pkg.dev/p/r/i:1", string apiVersion = V1) =>
        $$"""{"apiVersion":"{{apiVersion}}","kind":"CredentialProviderRequest","image":"{{image}}"}""";

    public static string Pod(string? gsa, string image = "us-docker.pkg.dev/p/r/i:1")
    {
        var annotations = gsa is null ? "" : $$""","serviceAccountAnnotations":{"iam.gke.io/gcp-service-account":"{{gsa}}"}""";
        return $$"""{"apiVersion":"{{V1}}","kind":"CredentialProviderRequest","image":"{{image}}","serviceAccountToken":"{{KsaToken}}"{{annotations}}}""";
    }
}
