using MetadataProxy.Identity;

namespace MetadataProxy.Tokens;

internal interface ITokenProvider
{
    ValueTask<TokenOutcome> GetAccessTokenAsync(CallerIdentity caller, IReadOnlyList<string> scopes, CancellationToken cancellationToken);

    ValueTask<TokenOutcome> GetIdTokenAsync(CallerIdentity caller, IdTokenRequest request, CancellationToken cancellationToken);
}
