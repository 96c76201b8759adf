using System.Text.Json;
using Google.Apis.Auth.OAuth2;
using Microsoft.Extensions.Options;

namespace MetadataProxy.Standalone;

/// <summary>
/// The one Google credential standalone mode mints tokens from: <c>Standalone:CredentialsFile</c>, else
/// Application Default Credentials. Loaded once, on first use; a failure to load is remembered as a sentence.
/// </summary>
internal sealed class StandaloneCredentials(IOptions<StandaloneOptions> options)
{
    private readonly Lazy<Task<(GoogleCredential? Credential, string? Problem)>> _loaded = new(() => LoadAsync(options.Value.CredentialsFile));

    public Task<(GoogleCredential? Credential, string? Problem)> GetAsync() => _loaded.Value;

    private static async Task<(GoogleCredential?, string?)> LoadAsync(string? file)
    {
        try
        {
            if (string.IsNullOrEmpty(file))
                return (await GoogleCredential.GetApplicationDefaultAsync(), null);

            // The operator names this file, so its type is trusted as written.
            using var json = JsonDocument.Parse(await File.ReadAllBytesAsync(file));
            var type = json.RootElement.TryGetProperty("type", out var t) ? t.GetString() : null;
            if (string.IsNullOrEmpty(type))
                return (null, $"Standalone:CredentialsFile '{file}' has no \"type\" field.");
            var credential = await CredentialFactory.FromFileAsync(file, type, CancellationToken.None);
            return (credential, null);
        }
        catch (Exception e) when (e is InvalidOperationException or IOException or JsonException or ArgumentException or NotSupportedException)
        {
            return (null, "No Google credentials are available: set GOOGLE_APPLICATION_CREDENTIALS or Standalone:CredentialsFile to a credentials JSON file, " +
                          $"or run 'gcloud auth application-default login' ({e.Message.TrimEnd('.')}).");
        }
    }
}
