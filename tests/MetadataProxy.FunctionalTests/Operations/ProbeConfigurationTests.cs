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

    [Theory]
    [InlineData("from-file.sock", null, 1, "probe: no answer on {dir}/from-file.sock (")]
    [InlineData("from-file.sock", "from-environment.sock", 1, "probe: no answer on {dir}/from-environment.sock (")] // the environment wins
    [InlineData("from-file.sock", "", 2, "probe: Listen:AdminSocket (Listen__AdminSocket) is empty, so the server has no admin socket to ask;")]
    [InlineData("", null, 2, "probe: Listen:AdminSocket (Listen__AdminSocket) is empty,")]
    public async Task Probe_AsksTheSocketTheServersConfigurationNames(string inAppsettings, string? inEnvironment, int exitCode, string output)
    {
        File.WriteAllText(Path.Combine(_directory, "appsettings.json"), System.Text.Json.JsonSerializer.Serialize(
            new { Mode = "Kubernetes", Listen = new { AdminSocket = inAppsettings.Length > 0 ? Path.Combine(_directory, inAppsettings) : "" } }));

        var probe = await ProbeAsync(inEnvironment is { Length: > 0 } ? Path.Combine(_directory, inEnvironment) : inEnvironment);

        Assert.Equal(exitCode, probe.ExitCode);
        Assert.StartsWith(output.Replace("{dir}", _directory, StringComparison.Ordinal), probe.Output, StringComparison.Ordinal);
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);

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
