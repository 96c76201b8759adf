using k8s;
using k8s.Models;

namespace MetadataProxy.TestServers.Kubernetes;

/// <summary>One watch event per line: <c>{"type":"…","object":{…}}</c>, as the JSON watch encoder frames them.</summary>
internal static class WatchLines
{
    public static string Event(string type, object value) => Line(type, KubernetesJson.Serialize(value));

    /// <summary>A bookmark carries only the object's kind, apiVersion and metadata.resourceVersion.</summary>
    public static T Bookmark<T>(string kind, long resourceVersion)
        where T : IKubernetesObject<V1ObjectMeta>, new() => new()
    {
        Kind = kind,
        ApiVersion = "v1",
        Metadata = new V1ObjectMeta { ResourceVersion = KubeObjects.Format(resourceVersion) },
    };

    public static string Error(V1Status status) => Line("ERROR", StatusJson.Serialize(status));

    private static string Line(string type, string objectJson) => "{\"type\":\"" + type + "\",\"object\":" + objectJson + "}\n";
}
