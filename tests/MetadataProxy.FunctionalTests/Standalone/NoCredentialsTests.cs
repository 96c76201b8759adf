using MetadataProxy.FunctionalTests.Infrastructure;

namespace MetadataProxy.FunctionalTests.Standalone;

/// <summary>
/// A machine with no Google credentials at all (its own process: Application Default Credentials is
/// process-wide state): metadata values serve, token and identity answer 503 saying what to configure.
/// </summary>
public sealed class NoCredentialsTests
{
    private static readonly Dictionary<string, string> CleanMachine = new()
    {
        ["HOME"] = Path.GetTempPath(),
        // Nothing answers here, so ADC's own metadata-server probe fails at once instead of waiting on the network.
        ["GCE_METADATA_HOST"] = "127.0.0.1:9",
    };

    [Fact]
    public async Task Token_WithoutCredentials_Is503SayingWhatToConfigure_WhileValuesServe()
    {
        await using var server = await ServerProcess.StartAsync(CleanMachine, "--Metadata:ProjectId=test-project");
        using var client = ProxyServer.CreateClient(server.MetadataUri, source: null);

        var (value, project) = await client.GetWithBodyAsync("/computeMetadata/v1/project/project-id");
        Assert.Equal(HttpStatusCode.OK, value.StatusCode);
        Assert.Equal("test-project", project);

        foreach (var leaf in new[] { "token", "identity?audience=https://svc.example" })
        {
            var (response, body) = await client.GetWithBodyAsync($"/computeMetadata/v1/instance/service-accounts/default/{leaf}");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
            Assert.StartsWith("No Google credentials are available: set GOOGLE_APPLICATION_CREDENTIALS or Standalone:CredentialsFile", body, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task DefaultStart_PrintsWhereItListens_AndServesLoopbackCallers()
    {
        await using var server = await ServerProcess.StartAsync(CleanMachine);
        Assert.Contains($"Now listening on: {server.MetadataUri.AbsoluteUri.TrimEnd('/')}", server.Output, StringComparison.Ordinal);

        using var client = ProxyServer.CreateClient(server.MetadataUri, source: null);
        var (response, body) = await client.GetWithBodyAsync("/computeMetadata/v1/instance/service-accounts/default/email");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("local-project.svc.id.goog", body);
    }
}
