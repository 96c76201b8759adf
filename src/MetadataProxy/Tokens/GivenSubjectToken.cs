using Google.Apis.Auth.OAuth2;

namespace MetadataProxy.Tokens;

/// <summary>A subject token that someone else minted (the kubelet, KEP-4412), handed to STS as it is.</summary>
internal sealed class GivenSubjectToken(string token) : ProgrammaticExternalAccountCredential.ISubjectTokenProvider
{
    public Task<string> GetSubjectTokenAsync(ProgrammaticExternalAccountCredential credential, CancellationToken cancellationToken) =>
        Task.FromResult(token);
}
