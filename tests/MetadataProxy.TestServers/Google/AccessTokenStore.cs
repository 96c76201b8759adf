using System.Collections.Concurrent;
using System.Security.Cryptography;
using MetadataProxy.TestServers.Jwt;

namespace MetadataProxy.TestServers.Google;

/// <summary>Opaque <c>ya29.</c> bearer tokens and what each one stands for.</summary>
internal sealed class AccessTokenStore
{
    private readonly ConcurrentDictionary<string, TokenInfo> _tokens = new(StringComparer.Ordinal);

    public string Issue(TokenInfo info)
    {
        var token = "ya29.test-" + Base64Url.Encode(RandomNumberGenerator.GetBytes(96));
        _tokens[token] = info;
        return token;
    }

    public TokenInfo? Find(string token) => _tokens.TryGetValue(token, out var info) ? info : null;
}
