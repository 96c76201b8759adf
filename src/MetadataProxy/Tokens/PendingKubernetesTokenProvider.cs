using MetadataProxy.Identity;

namespace MetadataProxy.Tokens;

/// <summary>
/// Kubernetes mode before the STS exchange exists (issue 4): every token and identity request is refused with
/// 503 and a sentence, never answered with some other credential.
/// </summary>
internal sealed class PendingKubernetesTokenProvider : ITokenProvider
{
    private const string Message = "Google token exchange is not available in Kubernetes mode in this build (issue 4); no token is served.";

    public ValueTask<TokenOutcome> GetAccessTokenAsync(CallerIdentity caller, IReadOnlyList<string> scopes, CancellationToken cancellationToken) =>
        ValueTask.FromResult<TokenOutcome>(new TokenOutcome.Refused(TokenRefusal.NotConfigured, Message));

    public ValueTask<TokenOutcome> GetIdTokenAsync(CallerIdentity caller, IdTokenRequest request, CancellationToken cancellationToken) =>
        ValueTask.FromResult<TokenOutcome>(new TokenOutcome.Refused(TokenRefusal.NotConfigured, Message));
}
