namespace MetadataProxy.PullSecrets;

/// <summary>What a ServiceAccount's <c>metadataproxy.io/image-pull-secret</c> annotation asks for.</summary>
internal abstract record PullSecretOptIn
{
    public const string AnnotationKey = "metadataproxy.io/image-pull-secret";

    /// <summary>No annotation, or <c>"false"</c>: no Secret (one that exists is removed).</summary>
    public sealed record Absent : PullSecretOptIn;

    /// <summary>A Secret for these registry host patterns.</summary>
    public sealed record Wanted(IReadOnlyList<string> Hosts) : PullSecretOptIn;

    /// <summary>The annotation cannot be honoured: a Warning Event says why, and an existing Secret is left as it is.</summary>
    public sealed record Invalid(string Problem) : PullSecretOptIn;

    /// <summary><c>"true"</c>: the gcr.io family and the configured hosts; a list: exactly those patterns.</summary>
    public static PullSecretOptIn Read(IDictionary<string, string>? annotations, IReadOnlyList<string> configured)
    {
        if (annotations is null || !annotations.TryGetValue(AnnotationKey, out var value))
            return new Absent();
        var text = value.Trim();
        if (text.Equals("false", StringComparison.OrdinalIgnoreCase))
            return new Absent();
        if (text.Equals("true", StringComparison.OrdinalIgnoreCase))
            return new Wanted([.. RegistryHosts.GcrFamily, .. configured.Except(RegistryHosts.GcrFamily)]);
        if (RegistryHosts.Parse(text, out var problem) is not { } hosts)
            return new Invalid($"annotation {AnnotationKey}: {problem}");
        return hosts.Count == 0
            ? new Invalid($"annotation {AnnotationKey} '{value}' must be \"true\", \"false\" or a comma list of registry host patterns")
            : new Wanted(hosts);
    }
}
