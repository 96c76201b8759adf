namespace MetadataProxy.CredentialProvider.Tests.Infrastructure;

/// <summary>How the stand-in answers; each test sets what its failure path needs.</summary>
internal sealed class StandInBehaviour
{
    public int Status { get; set; } = 200;

    /// <summary>The one-line text/plain body of a non-200 answer.</summary>
    public string Reason { get; set; } = "refused";

    /// <summary>Appends the KSA token it received to its reason, as a careless server might: the plugin must not print it.</summary>
    public bool EchoTokenInReason { get; set; }

    public long ExpiresIn { get; set; } = 3599;

    /// <summary>Accepts the request and never answers.</summary>
    public bool Hang { get; set; }

    /// <summary>Answers without Metadata-Flavor: Google, as something that is not a metadata server would.</summary>
    public bool OmitMetadataFlavor { get; set; }

    /// <summary>Replaces a 200 token answer's body.</summary>
    public string? RawTokenBody { get; set; }
}
