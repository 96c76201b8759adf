using Google.Apis.Auth.OAuth2;
using MetadataProxy.Tokens;

namespace MetadataProxy.UnitTests.Tokens;

/// <summary>One account's credentials: the IAM client is built once, direct credentials once per scope set, and bounded.</summary>
public sealed class AccountCredentialsTests
{
    [Fact]
    public void ImpersonationClient_IsBuiltOnceForEveryUse()
    {
        var built = 0;
        var credentials = new AccountCredentials(() =>
        {
            built++;
            return new IamCredentialsClient(new Google.Apis.Http.ConfigurableHttpClient(new Google.Apis.Http.ConfigurableMessageHandler(new HttpClientHandler())));
        });

        Assert.Same(credentials.Iam, credentials.Iam);
        Assert.Equal(1, built);
    }

    [Fact]
    public void DirectCredentials_OnePerScopeSet_NeverMoreThanTheBound()
    {
        var credentials = new AccountCredentials(() => throw new InvalidOperationException("not used"));
        var first = credentials.Direct(["https://www.googleapis.com/auth/a"], Credential);

        Assert.Same(first, credentials.Direct(["https://www.googleapis.com/auth/a"], () => throw new InvalidOperationException("must be reused")));
        for (var i = 0; i < 100; i++)
            credentials.Direct([$"https://www.googleapis.com/auth/s{i}"], Credential);

        Assert.Equal(AccountCredentials.MaxDirectScopeSets, credentials.DirectScopeSets);
    }

    private static GoogleCredential Credential() => GoogleCredential.FromAccessToken("ya29.test");
}
