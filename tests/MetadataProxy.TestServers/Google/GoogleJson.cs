using System.Text.Encodings.Web;
using System.Text.Json;

namespace MetadataProxy.TestServers.Google;

internal static class GoogleJson
{
    /// <summary>Google writes quotes and apostrophes as they are ("Permission '…'"), not as \u0027.</summary>
    public static JsonSerializerOptions Options { get; } = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
}
