namespace MetadataProxy.CredentialProvider.Kubelet;

/// <summary>How long the kubelet may keep a token: what it has left, less a margin, never past its expiry.</summary>
internal static class CacheDuration
{
    /// <summary>
    /// Five minutes, the floor the server itself keeps (it never serves a token with less left): a pull that starts
    /// just before the cache entry lapses must still finish with a valid token.
    /// </summary>
    public const long MarginSeconds = 5 * 60;

    public static string For(long expiresInSeconds) => GoDuration.Format(Math.Max(0, expiresInSeconds - MarginSeconds));
}
