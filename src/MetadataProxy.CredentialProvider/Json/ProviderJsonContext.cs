using System.Text.Json.Serialization;
using MetadataProxy.CredentialProvider.Docker;
using MetadataProxy.CredentialProvider.Kubelet;
using MetadataProxy.CredentialProvider.Tokens;

namespace MetadataProxy.CredentialProvider.Json;

/// <summary>Every JSON shape the executable reads or writes, source-generated: no reflection, so NativeAOT and trimming are safe.</summary>
[JsonSourceGenerationOptions(
    GenerationMode = JsonSourceGenerationMode.Default,
    AllowTrailingCommas = false,
    ReadCommentHandling = System.Text.Json.JsonCommentHandling.Disallow)]
[JsonSerializable(typeof(CredentialProviderRequest))]
[JsonSerializable(typeof(CredentialProviderResponse))]
[JsonSerializable(typeof(TokenAnswer))]
[JsonSerializable(typeof(PodTokenRequest))]
[JsonSerializable(typeof(DockerCredentials))]
[JsonSerializable(typeof(Dictionary<string, string>))]
internal sealed partial class ProviderJsonContext : JsonSerializerContext;
