namespace MetadataProxy.Standalone;

internal sealed class StandaloneOptions
{
    public const string Section = "Standalone";

    /// <summary>Caller address ranges and the identity each gets; the first range that matches wins.</summary>
    public List<StandaloneIdentityOptions> Identities { get; set; } = [];

    /// <summary>A Google credentials JSON file; empty = Application Default Credentials.</summary>
    public string? CredentialsFile { get; set; }
}
