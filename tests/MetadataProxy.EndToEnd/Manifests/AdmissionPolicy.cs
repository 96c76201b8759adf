using System.Text.Json;
using Cel;
using static MetadataProxy.EndToEnd.Manifests.RenderedManifests;

namespace MetadataProxy.EndToEnd.Manifests;

/// <summary>What a ValidatingAdmissionPolicy decides for one request.</summary>
internal abstract record AdmissionDecision
{
    private AdmissionDecision() { }

    /// <summary>The request is outside the policy's matchConstraints or matchConditions.</summary>
    public sealed record NotApplicable : AdmissionDecision;

    public sealed record Allowed : AdmissionDecision;

    public sealed record Denied(string Message) : AdmissionDecision;
}

/// <summary>
/// A ValidatingAdmissionPolicy evaluated as the API server would: resource rules, then matchConditions, variables (in
/// order, as <c>variables.NAME</c>) and every validation, with a CEL evaluator (the Cel package: standard CEL and
/// its macros; no Kubernetes type checking, so a field the Kubernetes schema lacks is not caught here).
/// </summary>
internal sealed class AdmissionPolicy(JsonElement policy, JsonElement parameters)
{
    private readonly CelEnvironment _cel = new(null, null);

    public AdmissionDecision Evaluate(AdmissionRequest request)
    {
        if (!Matches(request))
            return new AdmissionDecision.NotApplicable();

        var variables = new Dictionary<string, object?>();
        var context = new Dictionary<string, object?>
        {
            ["request"] = request.ToCel(),
            ["object"] = Cel(request.Object),
            ["oldObject"] = request.OldObject is { } old ? Cel(old) : null,
            ["params"] = Cel(parameters),
            ["variables"] = variables,
        };
        foreach (var condition in Array(At(policy, "spec"), "matchConditions"))
        {
            if (!True(At(condition, "expression").GetString()!, context))
                return new AdmissionDecision.NotApplicable();
        }

        foreach (var variable in Array(At(policy, "spec"), "variables"))
            variables[At(variable, "name").GetString()!] = _cel.Program(At(variable, "expression").GetString()!, context);

        foreach (var validation in Array(At(policy, "spec"), "validations"))
        {
            if (True(At(validation, "expression").GetString()!, context))
                continue;
            var message = validation.TryGetProperty("messageExpression", out var expression)
                ? (string)_cel.Program(expression.GetString()!, context)!
                : At(validation, "message").GetString()!;
            return new AdmissionDecision.Denied(message);
        }

        return new AdmissionDecision.Allowed();
    }

    private bool Matches(AdmissionRequest request) =>
        Array(At(policy, "spec", "matchConstraints"), "resourceRules").Any(rule =>
            Strings(At(rule, "operations")).Contains(request.Operation)
            && Strings(At(rule, "apiGroups")).Contains(request.Group)
            && Strings(At(rule, "resources")).Contains(request.SubResource.Length == 0 ? request.Resource : $"{request.Resource}/{request.SubResource}"));

    private bool True(string expression, Dictionary<string, object?> context) =>
        _cel.Program(expression, context) switch
        {
            bool b => b,
            var other => throw new InvalidOperationException($"'{expression}' evaluated to {other ?? "null"}, not a bool"),
        };

    private static JsonElement[] Array(JsonElement o, string name) =>
        o.TryGetProperty(name, out var array) ? [.. array.EnumerateArray()] : [];

    /// <summary>JSON as CEL values: maps, lists, strings, int64, double, bool, null.</summary>
    public static object? Cel(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.Object => e.EnumerateObject().ToDictionary(p => p.Name, p => Cel(p.Value)),
        JsonValueKind.Array => e.EnumerateArray().Select(Cel).ToList(),
        JsonValueKind.String => e.GetString(),
        JsonValueKind.Number => e.TryGetInt64(out var l) ? l : e.GetDouble(),
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        _ => null,
    };
}

/// <summary>The parts of an admission review a policy reads: who (<paramref name="Extra"/> null: a credential with no extra at all), what, and the objects.</summary>
internal sealed record AdmissionRequest(
    string Operation, string Group, string Resource, string SubResource, string Name, string? Namespace,
    string UserName, IReadOnlyDictionary<string, IReadOnlyList<string>>? Extra, JsonElement Object, JsonElement? OldObject)
{
    public Dictionary<string, object?> ToCel() => new()
    {
        ["operation"] = Operation,
        ["resource"] = new Dictionary<string, object?> { ["group"] = Group, ["version"] = "v1", ["resource"] = Resource },
        ["subResource"] = SubResource,
        ["name"] = Name,
        ["namespace"] = Namespace ?? "",
        ["userInfo"] = Extra is null
            ? new Dictionary<string, object?> { ["username"] = UserName }
            : new Dictionary<string, object?>
            {
                ["username"] = UserName,
                ["extra"] = Extra.ToDictionary(p => p.Key, p => (object?)p.Value.Select(v => (object?)v).ToList()),
            },
    };
}
