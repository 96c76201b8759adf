using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace MetadataProxy.Metadata;

/// <summary>Turns tree nodes into the bytes GCE sends: listings, values, recursive JSON and text, ETags.</summary>
internal static class MetadataRenderer
{
    /// <summary>D-2: one entry a line, directories with a trailing slash, every line LF-terminated.</summary>
    public static MetadataResult.Content Listing(DirectoryNode directory) => directory.RenderedListing ??= RenderListing(directory);

    private static MetadataResult.Content RenderListing(DirectoryNode directory)
    {
        var text = new StringBuilder();
        foreach (var (key, child) in directory.Ordered)
            text.Append(key).Append(IsDirectory(child) ? "/\n" : "\n");
        return TextContent(text.ToString());
    }

    public static MetadataResult.Content Listing(params string[] entries) =>
        TextContent(string.Concat(entries.Select(e => e + "\n")));

    /// <summary>A node's value in its own format, rendered and hashed once per node and format (the hot path: an email).</summary>
    public static MetadataResult.Content Value(ValueNode node, MetadataFormat? alt)
    {
        var format = alt ?? DefaultFormat(node.Value);
        return format == MetadataFormat.Json
            ? node.RenderedJson ??= Value(node.Value, format)
            : node.RenderedText ??= Value(node.Value, format);
    }

    /// <summary>A value in its own format (A-1..A-4); the ETag is that of the default rendering .</summary>
    public static MetadataResult.Content Value(MetadataValue value, MetadataFormat? alt)
    {
        var defaultFormat = DefaultFormat(value);
        var etag = ETagOf(Render(value, defaultFormat));
        var format = alt ?? defaultFormat;
        return new MetadataResult.Content(format == MetadataFormat.Json ? ContentTypes.Json : ContentTypes.Text, Render(value, format), etag);
    }

    /// <summary>R-3: fixed keys camelCase, free keys verbatim, numbers unquoted, no token or identity (TK-11).</summary>
    public static MetadataResult.Content RecursiveJson(MetadataNode node)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
            WriteJson(writer, node);
        var body = buffer.ToArray();
        return new MetadataResult.Content(ContentTypes.Json, body, ETagOf(body));
    }

    /// <summary>R-8: one line a leaf, <c>relative/path value</c>; list items repeat the path.</summary>
    public static MetadataResult.Content RecursiveText(DirectoryNode directory)
    {
        var text = new StringBuilder();
        WriteText(text, directory, prefix: "");
        // The ETag stays the one of the default (JSON) recursive rendering.
        return new MetadataResult.Content(ContentTypes.Text, Encoding.UTF8.GetBytes(text.ToString()), RecursiveJson(directory).ETag);
    }

    public static MetadataResult.Content TextContent(string text)
    {
        var body = Encoding.UTF8.GetBytes(text);
        return new MetadataResult.Content(ContentTypes.Text, body, ETagOf(body));
    }

    public static MetadataResult.Content JsonContent(byte[] body) => new(ContentTypes.Json, body, ETagOf(body));

    /// <summary>W-1: 16 lowercase hex digits, a pure function of the content.</summary>
    public static string ETagOf(ReadOnlySpan<byte> body)
    {
        Span<byte> hash = stackalloc byte[MD5.HashSizeInBytes];
#pragma warning disable CA5351 // MD5 is GCE's own ETag function here, a fingerprint and not a security boundary.
        MD5.HashData(body, hash);
#pragma warning restore CA5351
        return Convert.ToHexStringLower(hash[..8]);
    }

    public static string CamelCase(string kebab)
    {
        var parts = kebab.Split('-');
        var result = new StringBuilder(parts[0]);
        foreach (var part in parts.Skip(1).Where(p => p.Length > 0))
            result.Append(char.ToUpperInvariant(part[0])).Append(part.AsSpan(1));
        return result.ToString();
    }

    private static MetadataFormat DefaultFormat(MetadataValue value) =>
        value is MetadataValue.List { JsonByDefault: true } ? MetadataFormat.Json : MetadataFormat.Text;

    private static bool IsDirectory(MetadataNode node) => node is DirectoryNode or CallerDirectoryNode;

    private static byte[] Render(MetadataValue value, MetadataFormat format)
    {
        if (format == MetadataFormat.Text)
        {
            var text = value switch
            {
                MetadataValue.Text t => t.Value,
                MetadataValue.Number n => n.Digits,
                MetadataValue.List l => string.Concat(l.Items.Select(i => i + "\n")),
                _ => throw new InvalidOperationException($"Unknown value type {value.GetType().Name}."),
            };
            return Encoding.UTF8.GetBytes(text);
        }

        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
            WriteValue(writer, value);
        return buffer.ToArray();
    }

    private static void WriteJson(Utf8JsonWriter writer, MetadataNode node)
    {
        switch (node)
        {
            case DirectoryNode directory:
                writer.WriteStartObject();
                foreach (var (key, child) in directory.Ordered)
                {
                    if (child is CredentialLeaf or CallerDirectoryNode)
                        continue;
                    writer.WritePropertyName(directory.KeyStyle == KeyStyle.Fixed ? CamelCase(key) : key);
                    WriteJson(writer, child);
                }

                writer.WriteEndObject();
                break;
            case ValueNode value:
                WriteValue(writer, value.Value);
                break;
            default:
                throw new InvalidOperationException($"{node.GetType().Name} has no JSON rendering.");
        }
    }

    private static void WriteValue(Utf8JsonWriter writer, MetadataValue value)
    {
        switch (value)
        {
            case MetadataValue.Text t:
                writer.WriteStringValue(t.Value);
                break;
            case MetadataValue.Number n:
                // the digits as they are; a 64-bit id must not pass through double.
                writer.WriteRawValue(n.Digits, skipInputValidation: false);
                break;
            case MetadataValue.List l:
                writer.WriteStartArray();
                foreach (var item in l.Items)
                    writer.WriteStringValue(item);
                writer.WriteEndArray();
                break;
            default:
                throw new InvalidOperationException($"Unknown value type {value.GetType().Name}.");
        }
    }

    private static void WriteText(StringBuilder text, DirectoryNode directory, string prefix)
    {
        foreach (var (key, child) in directory.Ordered)
        {
            switch (child)
            {
                case DirectoryNode sub:
                    WriteText(text, sub, prefix + key + "/");
                    break;
                case ValueNode { Value: MetadataValue.List list }:
                    foreach (var item in list.Items)
                        text.Append(prefix).Append(key).Append(' ').Append(item).Append('\n');
                    break;
                case ValueNode value:
                    text.Append(prefix).Append(key).Append(' ').Append(Encoding.UTF8.GetString(Render(value.Value, MetadataFormat.Text))).Append('\n');
                    break;
            }
        }
    }
}
