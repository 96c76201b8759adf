namespace MetadataProxy.Tokens;

/// <summary>
/// What a client can send back in an Authorization header: visible ASCII (Google's tokens are RFC 6750 b64tokens). A
/// token with anything else (a JSON lone surrogate that a reader turned into U+FFFD, a control character) would fail
/// in every client's HTTP stack, so it is refused as an unreadable answer rather than served.
/// </summary>
internal static class BearerText
{
    public static bool IsSendable(string token) => token.Length > 0 && token.All(c => c is > ' ' and < '\u007f');
}
