using System.Diagnostics;

namespace MetadataProxy.FunctionalTests.Operations;

/// <summary>
/// <c>MetadataProxy probe</c> finds the admin socket where the server does: <c>Listen:AdminSocket</c> from
/// appsettings.json in its working directory (the content root), overridden by the environment. Nothing listens on
/// the paths here, so the probe's "no answer on PATH" names the socket it chose.
/// </summary>
public sealed class ProbeConfigurationTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("probe-configuration-").FullName;

    private string FromFile => Path.Combine(_directory, "from-file.sock");

    private string FromEnvironment => Path.Combine(_directory, "from-environment.sock");

    [Fact]
    public async Task Probe_KeyOnlyInAppsettings_AsksThatSocket()
    {
        WriteAppsettings(FromFile);

        var (exitCode, output) = await ProbeAsync(environment: null);

        Assert.Equal(1, exitCode);
        Assert.StartsWith($"probe: no answer on {FromFile} (", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Probe_EnvironmentAndAppsettings_TheEnvironmentWins()
    {
        WriteAppsettings(FromFile);

        var (exitCode, output) = await ProbeAsync(environment: FromEnvironment);

        Assert.Equal(1, exitCode);
        Assert.StartsWith($"probe: no answer on {FromEnvironment} (", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Probe_EnvironmentExplicitlyEmpty_IsAUsageErrorEvenWithAPathInAppsettings()
    {
        WriteAppsettings(FromFile);

        var (exitCode, output) = await ProbeAsync(environment: "");

        Assert.Equal(2, exitCode);
        Assert.StartsWith("probe: Listen:AdminSocket (Listen__AdminSocket) is empty, so the server has no admin socket to ask;", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Probe_AppsettingsExplicitlyEmpty_IsAUsageError()
    {
        WriteAppsettings("");

        var (exitCode, output) = await ProbeAsync(environment: null);

        Assert.Equal(2, exitCode);
        Assert.StartsWith("probe: Listen:AdminSocket (Listen__AdminSocket) is empty,", output, StringComparison.Ordinal);
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private void WriteAppsettings(string adminSocket) =>
        File.WriteAllText(Path.Combine(_directory, "appsettings.json"),
            System.Text.Json.JsonSerializer.Serialize(new { Mode = "Kubernetes", Listen = new { AdminSocket = adminSocket } }));

    /// <summary>The real executable in probe mode, in <see cref="_directory"/>, with <c>Listen__AdminSocket</c> set or absent.</summary>
    private async Task<(int ExitCode, string Output)> ProbeAsync(string? environment)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = _directory,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "MetadataProxy.dll"));
        start.ArgumentList.Add("probe");
        start.ArgumentList.Add("/readyz");
        foreach (var name in start.Environment.Keys.Where(k => k.StartsWith("Listen", StringComparison.OrdinalIgnoreCase)).ToList())
            start.Environment.Remove(name);
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        if (environment is not null)
            start.Environment["Listen__AdminSocket"] = environment;

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var errors = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        await process.WaitForExitAsync(TestContext.Current.CancellationToken).WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
        Assert.Equal("", await errors);
        return (process.ExitCode, await output);
    }
}
