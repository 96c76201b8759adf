namespace MetadataProxy.CredentialProvider.Tests.Infrastructure;

/// <summary>What one run of the executable left behind.</summary>
internal sealed record PluginRun(int ExitCode, string StandardOutput, string StandardError, TimeSpan Elapsed)
{
    /// <summary>The failure contract: exactly one line on stderr, and no .NET stack trace anywhere.</summary>
    public string SingleErrorLine()
    {
        var lines = StandardError.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(lines);
        Assert.DoesNotContain("   at ", StandardError, StringComparison.Ordinal);
        Assert.StartsWith("metadata-proxy-credential-provider: ", lines[0], StringComparison.Ordinal);
        return lines[0];
    }
}
