using System.Text;
using System.Text.Json;
using MetadataProxy.EndToEnd.Lab;

namespace MetadataProxy.EndToEnd.Manifests;

/// <summary>
/// Kubernetes objects as the cluster would receive them, as JSON. kustomize prints only YAML; <c>kubectl label --local
/// -o json</c> with the removal of a label nobody has is a no-op that turns any objects into JSON without a cluster.
/// </summary>
internal sealed class RenderedManifests(IReadOnlyList<JsonElement> objects)
{
    private const string NoSuchLabel = "metadata-proxy.test/render-check-";

    public IReadOnlyList<JsonElement> Objects { get; } = objects;

    public static async Task SkipUnlessKubectlAsync()
    {
        if (LabRequirements.FindOnPath("kubectl") is null)
            Assert.Skip("Rendering the manifests needs kubectl (with its built-in kustomize), e.g. the kubernetes-client package.");
        await Task.CompletedTask;
    }

    /// <summary><c>kubectl kustomize <paramref name="directory"/></c> (relative to manifests/).</summary>
    public static async Task<RenderedManifests> KustomizeAsync(string directory = ".")
    {
        var yaml = await ProcessRunner.RunAsync(["kubectl", "kustomize", Path.Combine(RepositoryFiles.Manifests, directory)]);
        return await FromYamlAsync(yaml.EnsureSuccess().StandardOutput);
    }

    /// <summary>
    /// The base with components of manifests/ (e.g. <c>hardening</c>), through an overlay in a temporary directory:
    /// kustomize builds no overlay inside its own base, and wants the paths relative.
    /// </summary>
    public static async Task<RenderedManifests> KustomizeWithComponentsAsync(params string[] components) =>
        await KustomizeWithComponentsAsync(components, "");

    /// <summary>As above, with more of the overlay's kustomization.yaml (e.g. an <c>images:</c> list).</summary>
    public static async Task<RenderedManifests> KustomizeWithComponentsAsync(string[] components, string moreKustomization)
    {
        var overlay = Directory.CreateTempSubdirectory("metadata-proxy-overlay-");
        try
        {
            var manifests = Path.GetRelativePath(overlay.FullName, RepositoryFiles.Manifests);
            await File.WriteAllTextAsync(
                Path.Combine(overlay.FullName, "kustomization.yaml"),
                $"resources: [{manifests}]\ncomponents: [{string.Join(", ", components.Select(c => $"{manifests}/{c}"))}]\n{moreKustomization}");
            var yaml = await ProcessRunner.RunAsync(["kubectl", "kustomize", overlay.FullName]);
            return await FromYamlAsync(yaml.EnsureSuccess().StandardOutput);
        }
        finally
        {
            overlay.Delete(recursive: true);
        }
    }

    /// <summary>A YAML file of manifests/ (relative path), rendered as it is.</summary>
    public static async Task<RenderedManifests> FileAsync(string relativePath) =>
        await FromYamlAsync(await File.ReadAllTextAsync(Path.Combine(RepositoryFiles.Manifests, relativePath)));

    public static async Task<RenderedManifests> FromYamlAsync(string yaml)
    {
        var json = await ProcessRunner.RunAsync(
            ["kubectl", "label", "--local", "-f", "-", "-o", "json", NoSuchLabel], standardInput: yaml);
        var reader = new Utf8JsonReader(Encoding.UTF8.GetBytes(json.EnsureSuccess().StandardOutput), new JsonReaderOptions { AllowMultipleValues = true });
        var objects = new List<JsonElement>();
        while (reader.Read())
            objects.Add(JsonElement.ParseValue(ref reader));
        return new RenderedManifests(objects);
    }

    public JsonElement Single(string kind) => Assert.Single(Objects, o => Kind(o) == kind);

    public JsonElement Single(string kind, string namePrefix) =>
        Assert.Single(Objects, o => Kind(o) == kind && Name(o).StartsWith(namePrefix, StringComparison.Ordinal));

    public static string Kind(JsonElement o) => o.GetProperty("kind").GetString()!;

    public static string Name(JsonElement o) => o.GetProperty("metadata").GetProperty("name").GetString()!;

    public static string? Namespace(JsonElement o) =>
        o.GetProperty("metadata").TryGetProperty("namespace", out var ns) ? ns.GetString() : null;

    /// <summary>The string values of a JSON array, in order.</summary>
    public static IReadOnlyList<string> Strings(JsonElement array) => [.. array.EnumerateArray().Select(e => e.GetString()!)];

    /// <summary>The element at a path of property names and array indexes, e.g. <c>("spec", "template", "spec")</c>.</summary>
    public static JsonElement At(JsonElement o, params object[] path)
    {
        foreach (var step in path)
            o = step is int index ? o[index] : o.GetProperty((string)step);
        return o;
    }
}
