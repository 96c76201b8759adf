namespace MetadataProxy.Hosting;

internal static class ModeSelection
{
    public static ProxyMode Read(IConfiguration configuration)
    {
        var text = configuration["Mode"];
        if (string.IsNullOrEmpty(text))
            return ProxyMode.Standalone;
        if (Enum.TryParse<ProxyMode>(text, ignoreCase: true, out var mode) && Enum.IsDefined(mode))
            return mode;
        throw new ConfigurationProblemsException([$"Mode '{text}' is not one of: Standalone, Kubernetes, PullSecrets."]);
    }
}
