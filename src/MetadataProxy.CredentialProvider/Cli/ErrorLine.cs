using System.Text;

namespace MetadataProxy.CredentialProvider.Cli;

/// <summary>
/// Turns any reason (ours, or a server's body) into one printable line: the kubelet logs stderr verbatim and an
/// operator greps it, so no newlines, no control characters, no unbounded length.
/// </summary>
internal static class ErrorLine
{
    public const string Prefix = "metadata-proxy-credential-provider: ";
    private const int MaxLength = 1000;

    public static string Format(string reason)
    {
        var line = new StringBuilder(Math.Min(reason.Length, MaxLength));
        foreach (var c in reason.Trim())
        {
            if (line.Length == MaxLength)
                break;
            line.Append(char.IsControl(c) ? ' ' : c);
        }

        return line.ToString();
    }
}
