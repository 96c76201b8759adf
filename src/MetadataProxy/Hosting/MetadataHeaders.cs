namespace MetadataProxy.Hosting;

internal static class MetadataHeaders
{
    public const string Flavor = "Metadata-Flavor";
    public const string FlavorValue = "Google";
    public const string LegacyRequest = "X-Google-Metadata-Request";
    public const string ForwardedFor = "X-Forwarded-For";
}
