using System.Text;
using System.Text.Json;
using MetadataProxy.CredentialProvider.Cli;
using MetadataProxy.CredentialProvider.Json;
using MetadataProxy.CredentialProvider.Kubelet;
using MetadataProxy.CredentialProvider.Registries;
using MetadataProxy.CredentialProvider.Tokens;

namespace MetadataProxy.CredentialProvider.Docker;

/// <summary>
/// The docker-credential-helpers protocol: get (server URL on stdin → credentials JSON), list, and store/erase refused,
/// since the tokens rotate and live in MetadataProxy, not here.
/// </summary>
internal sealed class DockerHelperCommand(IReadOnlyList<RegistryPattern> patterns, TokenEndpoint endpoint)
{
    /// <summary>The protocol's own sentences: Docker compares the helper's output with them to the letter.</summary>
    public const string NotFound = "credentials not found in native keychain";
    public const string MissingServerUrl = "no credentials server URL";

    public const string NodeTokenPath = GetCredentialsCommand.NodeTokenPath;
    public const string MetadataTokenPath = "/computeMetadata/v1/instance/service-accounts/default/token";

    public static bool ReadsInput(string verb) => verb is "get" or "store" or "erase";

    public async Task<Result<string>> RunAsync(string verb, byte[] input, CancellationToken cancellationToken) => verb switch
    {
        "get" => await GetAsync(Encoding.UTF8.GetString(input).Trim(), cancellationToken),
        "list" => List(),
        "store" => Failure.Refused("store is not supported: MetadataProxy issues rotating registry tokens itself; no docker login is needed for Google registries"),
        "erase" => Failure.Refused("erase is not supported: this helper stores no credentials (MetadataProxy issues them)"),
        "version" => Result<string>.Success("docker-credential-metadataproxy (MetadataProxy)\n"),
        _ => Failure.BadInput($"unknown credential action `{verb}`; expected get, list, store, erase or version"),
    };

    private async Task<Result<string>> GetAsync(string serverUrl, CancellationToken cancellationToken)
    {
        if (serverUrl.Length == 0)
            return Failure.Refused(MissingServerUrl);
        var host = ServerUrl.Host(serverUrl);
        if (host.Length == 0 || !patterns.Any(p => p.MatchesHost(host)))
            return Failure.Refused(NotFound);

        var path = endpoint.SocketPath is null ? MetadataTokenPath : NodeTokenPath;
        var token = await new TokenClient(endpoint).GetAsync(path, cancellationToken);
        if (!token.Succeeded)
            return token.Failure;

        var credentials = new DockerCredentials(serverUrl, ResponseBuilder.Username, token.Value.Value);
        return Result<string>.Success(JsonSerializer.Serialize(credentials, ProviderJsonContext.Default.DockerCredentials) + "\n");
    }

    /// <summary>Only patterns without a glob name a server Docker could look up; wildcards (*.pkg.dev) cannot be listed.</summary>
    private Result<string> List()
    {
        var servers = patterns
            .Where(p => !p.Text.Contains('*', StringComparison.Ordinal))
            .ToDictionary(p => p.Text, _ => ResponseBuilder.Username, StringComparer.Ordinal);
        return Result<string>.Success(JsonSerializer.Serialize(servers, ProviderJsonContext.Default.DictionaryStringString) + "\n");
    }
}
