using Google.Apis.Auth.OAuth2;

namespace MetadataProxy.FunctionalTests.TestServers.Google;

/// <summary>Hands Google.Apis.Auth a fresh subject token on every call (it asks only when it needs a new STS token).</summary>
internal sealed class DelegateSubjectTokenProvider(Func<string> mint) : ProgrammaticExternalAccountCredential.ISubjectTokenProvider
{
    public int Calls { get; private set; }

    public Task<string> GetSubjectTokenAsync(ProgrammaticExternalAccountCredential credential, CancellationToken taskCancellationToken)
    {
        Calls++;
        return Task.FromResult(mint());
    }
}
