using System.Collections;
using MetadataProxy.Hosting;

namespace MetadataProxy.UnitTests.Hosting;

/// <summary><c>MetadataProxy probe</c> reads <c>Listen:AdminSocket</c> where the server does: appsettings, then the environment.</summary>
public sealed class AdminSocketSettingTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("admin-socket-setting-").FullName;

    [Fact]
    public void Read_KeyOnlyInAppsettings_IsThatPath()
    {
        Write("appsettings.json", """{ "Mode": "Kubernetes", "Listen": { "AdminSocket": "/run/a.sock" } }""");

        Assert.Equal("/run/a.sock", Read(new Hashtable()));
    }

    [Fact]
    public void Read_EnvironmentAndAppsettings_TheEnvironmentWins()
    {
        Write("appsettings.json", """{ "Listen": { "AdminSocket": "/run/a.sock" } }""");

        Assert.Equal("/run/b.sock", Read(new Hashtable { ["Listen__AdminSocket"] = "/run/b.sock" }));
    }

    [Fact]
    public void Read_EnvironmentExplicitlyEmpty_IsEmptyNotTheFilesPath()
    {
        Write("appsettings.json", """{ "Listen": { "AdminSocket": "/run/a.sock" } }""");

        Assert.Equal("", Read(new Hashtable { ["Listen__AdminSocket"] = "" }));
    }

    [Fact]
    public void Read_EnvironmentSpecificFile_OverridesAppsettings()
    {
        Write("appsettings.json", """{ "Listen": { "AdminSocket": "/run/a.sock" } }""");
        Write("appsettings.Staging.json", """{ "Listen": { "AdminSocket": "/run/staging.sock" } }""");

        Assert.Equal("/run/staging.sock", Read(new Hashtable { ["DOTNET_ENVIRONMENT"] = "Staging" }));
        Assert.Equal("/run/a.sock", Read(new Hashtable()));
    }

    [Fact]
    public void Read_KeysInAnyCase_CommentsAndTrailingCommas_AsTheServerReadsThem()
    {
        Write("appsettings.json", """
            {
              // the operator's note
              "listen": { "adminSocket": "/run/a.sock", },
            }
            """);

        Assert.Equal("/run/a.sock", Read(new Hashtable()));
        Assert.Equal("/run/c.sock", Read(new Hashtable { ["LISTEN__ADMINSOCKET"] = "/run/c.sock" }));
    }

    [Fact]
    public void Read_NothingSetsIt_IsUnset()
    {
        Write("appsettings.json", """{ "Listen": { "Admin": "http://0.0.0.0:9988" } }""");

        Assert.Null(Read(new Hashtable { ["PATH"] = "/usr/bin" }));
    }

    [Fact]
    public void RunConfigured_ExplicitlyEmpty_IsAUsageErrorThatSaysSo()
    {
        Write("appsettings.json", """{ "Listen": { "AdminSocket": "" } }""");
        using var output = new StringWriter();

        var result = AdminProbe.RunConfigured("/readyz", _directory, new Hashtable(), output);

        Assert.Equal(2, result);
        Assert.StartsWith("probe: Listen:AdminSocket (Listen__AdminSocket) is empty,", output.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void RunConfigured_MalformedAppsettings_IsAUsageErrorNamingTheFile()
    {
        Write("appsettings.json", """{ "Listen": { "AdminSocket": """);
        using var output = new StringWriter();

        var result = AdminProbe.RunConfigured("/readyz", _directory, new Hashtable(), output);

        Assert.Equal(2, result);
        Assert.StartsWith($"probe: {Path.Combine(_directory, "appsettings.json")} cannot be read: ", output.ToString(), StringComparison.Ordinal);
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private void Write(string file, string json) => File.WriteAllText(Path.Combine(_directory, file), json);

    private string? Read(IDictionary environment)
    {
        var value = AdminSocketSetting.Read(_directory, environment, out var problem);
        Assert.Null(problem);
        return value;
    }
}
