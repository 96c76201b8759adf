using System.Text.RegularExpressions;

namespace MetadataProxy.EndToEnd.Manifests;

/// <summary>
/// Just enough of PromQL to say which metrics an expression reads: strings, label matchers, ranges and grouping
/// clauses are dropped; an identifier left that is not a function, an aggregation or a keyword is a metric name.
/// Not a parser: promtool is not available here.
/// </summary>
internal static partial class PromQl
{
    private static readonly HashSet<string> Keywords = new(StringComparer.Ordinal)
    {
        "and", "or", "unless", "bool", "offset", "by", "without", "on", "ignoring", "group_left", "group_right", "inf", "nan",
    };

    /// <summary>Metric names the expression selects, in order of appearance, without duplicates.</summary>
    public static IReadOnlyList<string> MetricNames(string expression)
    {
        var text = StringLiteral().Replace(expression, "\"\"");
        text = Braces().Replace(text, " ");
        text = Brackets().Replace(text, " ");
        text = Grouping().Replace(text, " ");
        return [.. Identifier().Matches(text)
            .Where(m => !Keywords.Contains(m.Value.ToLowerInvariant()) && !FollowedByParenthesis(text, m.Index + m.Length))
            .Select(m => m.Value)
            .Distinct()];
    }

    /// <summary>The values a matcher on <paramref name="label"/> names (<c>=</c>, <c>=~</c> alternatives, <c>!=</c>).</summary>
    public static IReadOnlyList<string> LabelValues(string expression, string label) =>
        [.. Regex.Matches(expression, $@"(?<![\w]){Regex.Escape(label)}\s*(=~|!~|!=|=)\s*""([^""]*)""")
            .SelectMany(m => m.Groups[2].Value.Split('|'))];

    /// <summary>Parentheses, braces and brackets nest and close, outside string literals.</summary>
    public static bool IsBalanced(string expression)
    {
        var open = new Stack<char>();
        foreach (var c in StringLiteral().Replace(expression, "\"\""))
        {
            if (c is '(' or '{' or '[')
                open.Push(c);
            else if (c is ')' or '}' or ']' && (open.Count == 0 || open.Pop() != (c switch { ')' => '(', '}' => '{', _ => '[' })))
                return false;
        }

        return open.Count == 0;
    }

    private static bool FollowedByParenthesis(string text, int index)
    {
        while (index < text.Length && char.IsWhiteSpace(text[index]))
            index++;
        return index < text.Length && text[index] == '(';
    }

    [GeneratedRegex("\"(?:[^\"\\\\]|\\\\.)*\"|'(?:[^'\\\\]|\\\\.)*'")]
    private static partial Regex StringLiteral();

    [GeneratedRegex(@"\{[^{}]*\}")]
    private static partial Regex Braces();

    [GeneratedRegex(@"\[[^\[\]]*\]")]
    private static partial Regex Brackets();

    [GeneratedRegex(@"\b(by|without|on|ignoring|group_left|group_right)\s*\([^()]*\)", RegexOptions.IgnoreCase)]
    private static partial Regex Grouping();

    [GeneratedRegex(@"(?<![\w.$:])[a-zA-Z_:][a-zA-Z0-9_:]*")]
    private static partial Regex Identifier();
}
