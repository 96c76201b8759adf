using MetadataProxy.Metadata;

namespace MetadataProxy.UnitTests.Metadata;

/// <summary>TK-4, G-16: what a caller's <c>scopes</c> become — the set that keys the token cache and goes to Google.</summary>
public sealed class RequestedScopesTests
{
    private const string Email = "https://www.googleapis.com/auth/userinfo.email";
    private const string Profile = "https://www.googleapis.com/auth/userinfo.profile";
    private const string CloudPlatform = "https://www.googleapis.com/auth/cloud-platform";

    public static TheoryData<string?, string[]> Accepted() => new()
    {
        { null, [] },
        { "", [] },
        { " , ,", [] },
        { "email", [Email] },
        { "profile", [Profile] },
        { "openid", ["openid"] },
        { "email,profile", [Email, Profile] },
        { "openid,email,profile", [Email, Profile, "openid"] },
        { $"email,{Email}", [Email] },
        { $"{Email},email, email ", [Email] },
        { $"{Profile},{CloudPlatform}", [CloudPlatform, Profile] },
        { $"{CloudPlatform},{CloudPlatform}", [CloudPlatform] },
    };

    [Theory]
    [MemberData(nameof(Accepted))]
    public void TryParse_ShortNamesAndUrls_BecomeOneSortedSetOfUrls(string? raw, string[] expected)
    {
        Assert.Null(RequestedScopes.TryParse(raw, out var scopes));
        Assert.Equal(expected, scopes);
    }

    [Fact]
    public void TryParse_EverySpellingOfOneSet_IsTheSameSet()
    {
        string[] spellings = ["email,cloud-platform-url", $"{Email},cloud-platform-url", "cloud-platform-url,email,email", $"cloud-platform-url,{Email},email"];
        var sets = spellings.Select(s =>
        {
            Assert.Null(RequestedScopes.TryParse(s.Replace("cloud-platform-url", CloudPlatform, StringComparison.Ordinal), out var scopes));
            return string.Join(' ', scopes);
        });
        Assert.Single(sets.Distinct());
    }

    [Theory]
    [InlineData("cloud-platform", "'cloud-platform'")]
    [InlineData("Email", "'Email'")]
    [InlineData("offline_access", "'offline_access'")]
    [InlineData("email,userinfo.email", "'userinfo.email'")]
    [InlineData("http://www.googleapis.com/auth/cloud-platform", "'http://www.googleapis.com/auth/cloud-platform'")]
    [InlineData("mailto:a@b.example", "'mailto:a@b.example'")]
    public void TryParse_ScopeGoogleWouldNotTake_Is400NamingItAndTheShortNames(string raw, string named)
    {
        var failure = RequestedScopes.TryParse(raw, out var scopes);
        Assert.NotNull(failure);
        Assert.Equal(FailureReason.BadRequest, failure.Reason);
        Assert.Contains(named, failure.Message, StringComparison.Ordinal);
        Assert.Contains("email, profile, openid", failure.Message, StringComparison.Ordinal);
        Assert.Empty(scopes);
    }

    [Fact]
    public void TryParse_MoreThanTheLimit_Is400()
    {
        var raw = string.Join(',', Enumerable.Range(0, RequestedScopes.MaxScopes + 1).Select(i => $"https://s.example/{i}"));
        var failure = RequestedScopes.TryParse(raw, out _);
        Assert.Equal($"Too many scopes: at most {RequestedScopes.MaxScopes} may be requested.", failure?.Message);
    }

    [Fact]
    public void TryParse_TheLimitOfShortNames_IsAccepted()
    {
        var raw = string.Join(',', Enumerable.Repeat("email", RequestedScopes.MaxScopes));
        Assert.Null(RequestedScopes.TryParse(raw, out var scopes));
        Assert.Equal([Email], scopes);
    }

    [Fact]
    public void TryParse_OversizedScope_Is400WithATruncatedEcho()
    {
        var failure = RequestedScopes.TryParse("https://s.example/" + new string('s', RequestedScopes.MaxScopeLength), out _);
        Assert.NotNull(failure);
        Assert.Contains("…'", failure.Message, StringComparison.Ordinal);
        Assert.True(failure.Message.Length < 300, failure.Message);
    }
}
