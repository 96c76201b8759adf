using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using MetadataProxy.TestServers.Jwt;

namespace MetadataProxy.TestServers.Kubernetes;

/// <summary>
/// The <c>continue</c> token of a chunked list, as apiserver/pkg/storage encodes it: base64url of
/// <c>{"v":"meta.k8s.io/v1","rv":N,"start":"key\u0000"}</c>, the resourceVersion of the first chunk and the key
/// the next chunk starts at. Clients must treat it as opaque.
/// </summary>
internal static class ContinueToken
{
    private const string Version = "meta.k8s.io/v1";

    public static string Encode(long resourceVersion, string lastKey) =>
        Base64Url.Encode(Encoding.UTF8.GetBytes(new JsonObject { ["v"] = Version, ["rv"] = resourceVersion, ["start"] = lastKey + "\0" }.ToJsonString()));

    public static bool TryDecode(string token, out long resourceVersion, out string start)
    {
        resourceVersion = 0;
        start = "";
        try
        {
            if (JsonNode.Parse(Base64Url.Decode(token)) is not JsonObject json || (string?)json["v"] != Version
                || json["rv"]?.GetValue<long>() is not (> 0 and var rv) || (string?)json["start"] is not { Length: > 0 } key)
                return false;
            resourceVersion = rv;
            start = key;
            return true;
        }
        catch (Exception e) when (e is FormatException or JsonException or InvalidOperationException)
        {
            return false;
        }
    }
}
