using System.Reflection;
using System.Runtime.InteropServices;

namespace MetadataProxy.CredentialProvider.Tests.Infrastructure;

/// <summary>The built plugin executable (its framework-dependent apphost) and what it needs to start from a test.</summary>
internal static class PluginBinary
{
    /// <summary>Written into this assembly at build time from the plugin project's TargetPath (see the .csproj).</summary>
    public static string AppHost { get; } = typeof(PluginBinary).Assembly
        .GetCustomAttributes<AssemblyMetadataAttribute>()
        .Single(a => a.Key == "PluginAppHost").Value!;

    /// <summary>
    /// The dotnet root this test runs on (…/shared/Microsoft.NETCore.App/VERSION/ is the runtime directory), so the
    /// apphost finds the same runtime even where DOTNET_ROOT is unset and dotnet is not in a default location.
    /// </summary>
    public static string DotnetRoot { get; } =
        Path.GetFullPath(Path.Combine(RuntimeEnvironment.GetRuntimeDirectory(), "..", "..", ".."));
}
