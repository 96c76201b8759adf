using MetadataProxy.Hosting;

namespace MetadataProxy.Registry;

internal static class RegistryExtensions
{
    /// <summary>Registry credentials for the kubelet's plugin and the Docker helper, served on the node socket only.</summary>
    public static WebApplicationBuilder AddRegistryCredentials(this WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton<KubeletTokenReview>();
        builder.Services.AddSingleton<PodRegistryCredentials>();
        builder.Services.AddSingleton<RegistryEndpoint>();
        return builder;
    }

    public static WebApplication MapRegistryCredentials(this WebApplication app)
    {
        app.MapWhen(context => context.IsNodeSocketConnection() && context.Request.Path.StartsWithSegments(RegistryEndpoint.PathPrefix.TrimEnd('/'), StringComparison.Ordinal),
            registry => registry.Run(context => context.RequestServices.GetRequiredService<RegistryEndpoint>().InvokeAsync(context)));
        return app;
    }
}
