using System.Text.Json;

namespace MetadataProxy.CredentialProvider.Tests.Infrastructure;

/// <summary>
/// Reads a CredentialProviderResponse the way the kubelet decodes it: strictly. Every property is asserted to be one of
/// the documented v1 fields and of its type, so anything extra fails the test as it would fail the kubelet.
/// </summary>
internal static class StrictResponse
{
    public static JsonElement Parse(string stdout, string expectedApiVersion, string expectedCacheDuration, string expectedPassword, IEnumerable<string> expectedKeys)
    {
        Assert.EndsWith("\n", stdout, StringComparison.Ordinal);
        var root = JsonDocument.Parse(stdout).RootElement.Clone();
        Assert.Equal(JsonValueKind.Object, root.ValueKind);
        Assert.Equal(["kind", "apiVersion", "cacheKeyType", "cacheDuration", "auth"], root.EnumerateObject().Select(p => p.Name));
        Assert.Equal("CredentialProviderResponse", root.GetProperty("kind").GetString());
        Assert.Equal(expectedApiVersion, root.GetProperty("apiVersion").GetString());
        Assert.Equal("Registry", root.GetProperty("cacheKeyType").GetString());
        Assert.Equal(expectedCacheDuration, root.GetProperty("cacheDuration").GetString());

        var auth = root.GetProperty("auth");
        Assert.Equal(expectedKeys, auth.EnumerateObject().Select(p => p.Name));
        foreach (var entry in auth.EnumerateObject())
        {
            Assert.Equal(["username", "password"], entry.Value.EnumerateObject().Select(p => p.Name));
            Assert.Equal("oauth2accesstoken", entry.Value.GetProperty("username").GetString());
            Assert.Equal(expectedPassword, entry.Value.GetProperty("password").GetString());
        }

        return root;
    }

    public static string[] KeysFor(string imageHost) =>
        new[] { imageHost, "*.pkg.dev", "gcr.io", "*.gcr.io", "container.cloud.google.com" }.Distinct().ToArray();
}
