using System.Text;
using System.Text.Json;

namespace MetadataProxy.PullSecrets;

/// <summary>The <c>.dockerconfigjson</c> of a <c>kubernetes.io/dockerconfigjson</c> Secret: one entry per registry pattern.</summary>
internal static class DockerConfig
{
    public const string Key = ".dockerconfigjson";
    public const string SecretType = "kubernetes.io/dockerconfigjson";

    /// <summary>Google's registries take an OAuth access token as the password of this user.</summary>
    public const string UserName = "oauth2accesstoken";

    /// <summary>What a Secret holds between its creation and its first credential: valid for the type, and no credential.</summary>
    public static byte[] Empty => "{\"auths\":{}}"u8.ToArray();

    public static byte[] For(IEnumerable<string> hosts, string accessToken)
    {
        var auth = Convert.ToBase64String(Encoding.UTF8.GetBytes($"{UserName}:{accessToken}"));
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteStartObject("auths");
            foreach (var host in hosts)
            {
                json.WriteStartObject(host);
                json.WriteString("username", UserName);
                json.WriteString("password", accessToken);
                json.WriteString("auth", auth);
                json.WriteEndObject();
            }

            json.WriteEndObject();
            json.WriteEndObject();
        }

        return buffer.ToArray();
    }
}
