using System.Text;
using k8s.Models;

namespace MetadataProxy.TestServers.Kubernetes;

/// <summary>A parsed <c>fieldSelector</c> for pods: comma-joined ANDs of <c>=</c>, <c>==</c> and <c>!=</c> terms
/// with backslash escapes, as k8s.io/apimachinery/pkg/fields.ParseSelector reads them.</summary>
internal sealed class PodFieldSelector
{
    public static readonly PodFieldSelector Everything = new([]);

    private readonly IReadOnlyList<FieldRequirement> _requirements;

    private PodFieldSelector(IReadOnlyList<FieldRequirement> requirements) => _requirements = requirements;

    public bool Matches(V1Pod pod) =>
        _requirements.All(r => string.Equals(PodFields.ValueOf(pod, r.Field), r.Value, StringComparison.Ordinal) == r.IsEquality);

    /// <summary>Parses the selector; on failure <paramref name="error"/> is the message of the 400 the server sends.</summary>
    public static bool TryParse(string? text, out PodFieldSelector selector, out string? error)
    {
        selector = Everything;
        error = null;
        if (string.IsNullOrEmpty(text))
        {
            return true;
        }

        var requirements = new List<FieldRequirement>();
        foreach (var term in SplitUnescaped(text, ','))
        {
            if (term.Length == 0)
            {
                continue;
            }

            if (!TrySplitTerm(term, out var label, out var value, out var isEquality))
            {
                error = $"invalid selector: '{text}'; can't understand '{term}'";
                return false;
            }

            var field = PodFields.Canonical(label);
            if (field is null)
            {
                error = $"field label not supported: {label}";
                return false;
            }

            requirements.Add(new FieldRequirement(field, Unescape(value), isEquality));
        }

        selector = new PodFieldSelector(requirements);
        return true;
    }

    private static IEnumerable<string> SplitUnescaped(string text, char separator)
    {
        var start = 0;
        for (var i = 0; i < text.Length; i++)
        {
            if (text[i] == '\\')
            {
                i++;
            }
            else if (text[i] == separator)
            {
                yield return text[start..i];
                start = i + 1;
            }
        }

        yield return text[start..];
    }

    private static bool TrySplitTerm(string term, out string label, out string value, out bool isEquality)
    {
        label = value = string.Empty;
        isEquality = true;
        for (var i = 0; i < term.Length; i++)
        {
            if (term[i] == '\\')
            {
                i++;
                continue;
            }

            foreach (var op in new[] { "!=", "==", "=" })
            {
                if (string.CompareOrdinal(term, i, op, 0, op.Length) == 0)
                {
                    label = term[..i];
                    value = term[(i + op.Length)..];
                    isEquality = op != "!=";
                    return label.Length > 0;
                }
            }
        }

        return false;
    }

    private static string Unescape(string value)
    {
        var builder = new StringBuilder(value.Length);
        for (var i = 0; i < value.Length; i++)
        {
            if (value[i] == '\\' && i + 1 < value.Length)
            {
                i++;
            }

            builder.Append(value[i]);
        }

        return builder.ToString();
    }
}
