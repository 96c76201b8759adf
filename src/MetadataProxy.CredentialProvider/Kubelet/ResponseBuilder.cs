using MetadataProxy.CredentialProvider.Registries;
using MetadataProxy.CredentialProvider.Tokens;

namespace MetadataProxy.CredentialProvider.Kubelet;

/// <summary>One token, every registry it is good for: the image's own host first, then the configured patterns.</summary>
internal static class ResponseBuilder
{
    /// <summary>Artifact Registry and Container Registry accept an access token as the password of this user.</summary>
    public const string Username = "oauth2accesstoken";

    public static CredentialProviderResponse Build(
        string apiVersion,
        string imageHost,
        IReadOnlyList<RegistryPattern> patterns,
        AccessToken token)
    {
        var credentials = new AuthConfig(Username, token.Value);
        var auth = new Dictionary<string, AuthConfig>(StringComparer.Ordinal) { [imageHost] = credentials };
        foreach (var pattern in patterns)
            auth.TryAdd(pattern.Text, credentials);

        return new CredentialProviderResponse
        {
            ApiVersion = apiVersion,
            CacheDuration = CacheDuration.For(token.ExpiresInSeconds),
            Auth = auth,
        };
    }
}
