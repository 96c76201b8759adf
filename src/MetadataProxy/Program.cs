using MetadataProxy.Hosting;
using MetadataProxy.Kubernetes;
using MetadataProxy.Metadata;
using MetadataProxy.Operations;
using MetadataProxy.PullSecrets;
using MetadataProxy.Registry;
using MetadataProxy.Standalone;
using MetadataProxy.Upstream;
using Microsoft.Extensions.Options;

// The kubelet's exec probe (issue 10, point 4): one request to this pod's own admin socket, no host.
if (args is ["probe", var probePath])
    return AdminProbe.RunConfigured(probePath, Environment.CurrentDirectory, Environment.GetEnvironmentVariables(), Console.Out);

try
{
    await Program.Build(args).RunAsync();
    return 0;
}
catch (Exception e) when (ConfigurationProblems.From(e) is { Count: > 0 } problems)
{
    foreach (var problem in problems)
        Console.Error.WriteLine($"configuration: {problem}");
    return 2;
}
catch (Exception e) when (ListenFailure.Describe(e) is { } line)
{
    Console.Error.WriteLine(line);
    return ListenFailure.ExitCode;
}

internal partial class Program
{
    /// <summary>
    /// The server, request stage by request stage. Tests build the same app with their own configuration, clock, and
    /// (<paramref name="replace"/>, registered last so it is what is resolved) a service of their own where no
    /// configuration can provoke what they test.
    /// </summary>
    public static WebApplication Build(string[] args, Action<IConfigurationBuilder>? configure = null, TimeProvider? time = null,
        Action<IServiceCollection>? replace = null)
    {
        var builder = WebApplication.CreateBuilder(args);
        configure?.Invoke(builder.Configuration);
        var mode = ModeSelection.Read(builder.Configuration);

        builder.AddOperations(mode);
        builder.AddMetadataHosting(mode);
        if (mode == ProxyMode.PullSecrets)
            return BuildPullSecrets(builder, time, replace);
        builder.AddMetadata();
        builder.AddUpstream();
        if (mode == ProxyMode.Kubernetes)
        {
            builder.AddKubernetesIdentity();
            builder.AddRegistryCredentials();
        }
        else
        {
            builder.AddStandalone();
        }

        if (time is not null)
            builder.Services.AddSingleton(time); // a test's clock: the last registration is the one resolved
        replace?.Invoke(builder.Services);
        var app = builder.Build();
        StartupPhase.Reached(app.Logger, "host built");
        app.Services.GetRequiredService<IStartupValidator>().Validate(); // every problem at once, before anything runs
        app.Services.GetRequiredService<MetadataTreeSource>(); // built now, from values just validated: the last valid tree from here on
        StartupPhase.Reached(app.Logger, "configuration validated, metadata tree built");
        app.MapOperations();
        if (mode == ProxyMode.Kubernetes)
            app.MapRegistryCredentials();
        app.MapMetadata();
        return app;
    }

    /// <summary>The pull-secret controller: operations endpoints only.</summary>
    private static WebApplication BuildPullSecrets(WebApplicationBuilder builder, TimeProvider? time, Action<IServiceCollection>? replace)
    {
        builder.AddPullSecrets();
        if (time is not null)
            builder.Services.AddSingleton(time);
        replace?.Invoke(builder.Services);
        var app = builder.Build();
        app.Services.GetRequiredService<IStartupValidator>().Validate();
        app.MapOperations();
        return app;
    }
}
