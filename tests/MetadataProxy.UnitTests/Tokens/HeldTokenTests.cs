using MetadataProxy.Metadata;
using MetadataProxy.Tokens;
using Microsoft.Extensions.Time.Testing;

namespace MetadataProxy.UnitTests.Tokens;

/// <summary>
/// The hot path's shortcuts (issue 11) answer what the slow path answers: a held token without a fetch, a refusal or a
/// missing key left to <see cref="TokenCache{TKey}.GetAsync"/>, and a rendered token answer reused only within the
/// same whole second of expires_in (TK-2).
/// </summary>
public sealed class HeldTokenTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 1, 8, 0, 0, TimeSpan.Zero));

    [Fact]
    public void TryGetServable_UnknownKey_IsNotAHitAndOpensNoKey()
    {
        var cache = new TokenCache<string>(new TokenCachePolicy(() => 0.5), _time);
        Assert.False(cache.TryGetServable("k", _ => throw new InvalidOperationException("no fetch on a miss"), out var token));
        Assert.Null(token);
        Assert.False(cache.Contains("k"));
    }

    [Fact]
    public async Task TryGetServable_HeldToken_IsAnsweredWithoutFetching()
    {
        var cache = new TokenCache<string>(new TokenCachePolicy(() => 0.5), _time);
        await cache.GetAsync("k", _ => Task.FromResult<TokenOutcome>(Token("t1", TimeSpan.FromHours(1))), CancellationToken.None);
        Assert.True(cache.TryGetServable("k", _ => throw new InvalidOperationException("a held token needs no fetch"), out var token));
        Assert.Equal("t1", ((TokenOutcome.AccessToken)token).Value);
    }

    [Fact]
    public async Task TryGetServable_TokenUnderTheMinimumServeTime_IsNotAHit()
    {
        var cache = new TokenCache<string>(new TokenCachePolicy(() => 0.5), _time);
        await cache.GetAsync("k", _ => Task.FromResult<TokenOutcome>(Token("t1", TimeSpan.FromMinutes(10))), CancellationToken.None);
        _time.Advance(TimeSpan.FromMinutes(6)); // 4 min left: TK-3 says it may not be handed out
        Assert.False(cache.TryGetServable("k", _ => Task.FromResult<TokenOutcome>(Token("t2", TimeSpan.FromHours(1))), out _));
    }

    [Fact]
    public async Task TryGetServable_RefusedKey_IsLeftToGetAsync()
    {
        var cache = new TokenCache<string>(new TokenCachePolicy(() => 0.5), _time);
        await cache.GetAsync("k", _ => Task.FromResult<TokenOutcome>(new TokenOutcome.Refused(TokenRefusal.UpstreamRejected, "no")), CancellationToken.None);
        Assert.True(cache.Contains("k"));
        Assert.False(cache.TryGetServable("k", _ => throw new InvalidOperationException("no fetch"), out _));
    }

    [Fact]
    public void AccessTokenAnswer_SameSecond_IsTheSameRendering_NextSecond_CountsDown()
    {
        var token = Token("ya29.a", TimeSpan.FromHours(1));
        _time.Advance(TimeSpan.FromMilliseconds(200)); // 3599.8 s left
        var first = Assert.IsType<MetadataResult.Content>(CredentialService.AccessTokenAnswer(token, _time.GetUtcNow()));
        _time.Advance(TimeSpan.FromMilliseconds(500)); // 3599.3 s
        var sameSecond = Assert.IsType<MetadataResult.Content>(CredentialService.AccessTokenAnswer(token, _time.GetUtcNow()));
        _time.Advance(TimeSpan.FromMilliseconds(700)); // 3598.6 s
        var nextSecond = Assert.IsType<MetadataResult.Content>(CredentialService.AccessTokenAnswer(token, _time.GetUtcNow()));

        Assert.Equal("""{"access_token":"ya29.a","expires_in":3599,"token_type":"Bearer"}""", System.Text.Encoding.UTF8.GetString(first.Body));
        Assert.Same(first, sameSecond);
        Assert.Equal("""{"access_token":"ya29.a","expires_in":3598,"token_type":"Bearer"}""", System.Text.Encoding.UTF8.GetString(nextSecond.Body));
        Assert.Equal(MetadataRenderer.ETagOf(nextSecond.Body), nextSecond.ETag);
        Assert.NotEqual(first.ETag, nextSecond.ETag);
    }

    [Fact]
    public void AccessTokenAnswer_AnotherTokenWithTheSameExpiry_IsRenderedForItself()
    {
        var now = _time.GetUtcNow();
        var a = Assert.IsType<MetadataResult.Content>(CredentialService.AccessTokenAnswer(Token("ya29.a", TimeSpan.FromHours(1)), now));
        var b = Assert.IsType<MetadataResult.Content>(CredentialService.AccessTokenAnswer(Token("ya29.b", TimeSpan.FromHours(1)), now));
        Assert.Contains("ya29.b", System.Text.Encoding.UTF8.GetString(b.Body), StringComparison.Ordinal);
        Assert.DoesNotContain("ya29.a", System.Text.Encoding.UTF8.GetString(b.Body), StringComparison.Ordinal);
        Assert.NotEqual(a.ETag, b.ETag);
    }

    private TokenOutcome.AccessToken Token(string value, TimeSpan lifetime) => new(value, _time.GetUtcNow() + lifetime);
}
