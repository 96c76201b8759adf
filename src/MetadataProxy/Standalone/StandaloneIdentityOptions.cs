namespace MetadataProxy.Standalone;

internal sealed class StandaloneIdentityOptions
{
    /// <summary>One or more CIDR ranges separated by ',' (<c>127.0.0.0/8,::1/128</c>).</summary>
    public string? Cidr { get; set; }

    public string Namespace { get; set; } = "default";

    public string ServiceAccount { get; set; } = "default";

    public string? GoogleServiceAccount { get; set; }

    /// <summary>Scopes listed for the account and used when a caller asks for none; default cloud-platform + userinfo.email.</summary>
    public List<string>? Scopes { get; set; }
}
