using System.Globalization;
using k8s;

namespace MetadataProxy.TestServers.Kubernetes;

internal static class KubeObjects
{
    /// <summary>A deep copy through the wire format, so callers never share instances with the store.</summary>
    public static T Clone<T>(T value) => KubernetesJson.Deserialize<T>(KubernetesJson.Serialize(value));

    public static string Format(long resourceVersion) => resourceVersion.ToString(CultureInfo.InvariantCulture);

    public static bool TryParse(string? resourceVersion, out long value) =>
        long.TryParse(resourceVersion, NumberStyles.None, CultureInfo.InvariantCulture, out value);

    public static string Key(string? ns, string name) => string.IsNullOrEmpty(ns) ? name : ns + "/" + name;

    /// <summary>Rounds to whole seconds: metav1.Time travels as RFC 3339 without fractions.</summary>
    public static DateTime Seconds(DateTimeOffset time) =>
        new(time.UtcDateTime.Ticks - (time.UtcDateTime.Ticks % TimeSpan.TicksPerSecond), DateTimeKind.Utc);
}
