namespace MetadataProxy.CredentialProvider.Kubelet;

/// <summary>Go's time.Duration.String() for whole seconds ("1h0m0s", "55m0s", "59s", "0s"): what metav1.Duration parses and prints.</summary>
internal static class GoDuration
{
    public static string Format(long seconds)
    {
        if (seconds <= 0)
            return "0s";
        var hours = seconds / 3600;
        var minutes = seconds % 3600 / 60;
        var rest = seconds % 60;
        if (hours > 0)
            return $"{hours}h{minutes}m{rest}s";
        return minutes > 0 ? $"{minutes}m{rest}s" : $"{rest}s";
    }
}
