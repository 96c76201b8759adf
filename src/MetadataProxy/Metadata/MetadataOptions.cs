namespace MetadataProxy.Metadata;

/// <summary>The values served under <c>project/</c>, <c>instance/</c> and <c>universe/</c>.</summary>
internal sealed class MetadataOptions
{
    public const string Section = "Metadata";

    public string? ProjectId { get; set; }

    public string? NumericProjectId { get; set; }

    /// <summary><c>projects/N/zones/Z</c>, or just <c>Z</c> (expanded with <see cref="NumericProjectId"/>).</summary>
    public string? Zone { get; set; }

    public string? InstanceId { get; set; }

    public string? InstanceName { get; set; }

    public string? Hostname { get; set; }

    public string? ClusterName { get; set; }

    public string? ClusterLocation { get; set; }

    public string? ClusterUid { get; set; }

    public string UniverseDomain { get; set; } = "googleapis.com";

    /// <summary>G-10: GCE says <c>Metadata Server for VM</c>, GKE <c>GKE Metadata Server</c>.</summary>
    public string ServerHeader { get; set; } = "GKE Metadata Server";

    /// <summary><c>project/attributes/</c> in the order set; see <see cref="ConfiguredAttributes"/> for the two forms.</summary>
    public OrderedDictionary<string, string> ProjectAttributes { get; set; } = [];

    public string? FullZone() =>
        string.IsNullOrEmpty(Zone) || Zone.StartsWith("projects/", StringComparison.Ordinal)
            ? NullIfEmpty(Zone)
            : $"projects/{NumericProjectId}/zones/{Zone}";

    private static string? NullIfEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;
}
