using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Options;

namespace MetadataProxy.Hosting;

internal static class HostingExtensions
{
    /// <summary>Two Kestrel listeners: the metadata API and the admin port (health, readiness, metrics).</summary>
    public static WebApplicationBuilder AddMetadataHosting(this WebApplicationBuilder builder, ProxyMode mode)
    {
        builder.Services.AddOptions<ListenerOptions>()
            .Bind(builder.Configuration.GetSection(ListenerOptions.Section))
            .PostConfigure(o =>
            {
                o.Metadata ??= mode == ProxyMode.Kubernetes ? "http://169.254.169.252:988" : "http://127.0.0.1:8080";
                o.Admin ??= mode == ProxyMode.Kubernetes ? "http://0.0.0.0:9988" : "http://127.0.0.1:9988";
            })
            .ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<ListenerOptions>, ListenerOptionsValidator>();
        builder.Services.AddSingleton<Listeners>();
        builder.Services.AddOptions<KestrelServerOptions>().Configure<IOptions<ListenerOptions>, Listeners>((kestrel, listen, listeners) =>
        {
            kestrel.AddServerHeader = false; // G-10: the Server header is ours.
            // Validated at start-up (ListenerOptionsValidator) before Kestrel reads these.
            _ = ListenAddress.TryParse(listen.Value.Metadata, out var metadata, out _);
            _ = ListenAddress.TryParse(listen.Value.Admin, out var admin, out _);
            foreach (var endpoint in metadata)
                kestrel.Listen(endpoint, l => listeners.Metadata.Add(l));
            foreach (var endpoint in admin)
            {
                kestrel.Listen(endpoint, l =>
                {
                    listeners.Admin.Add(l);
                    l.Use(next => connection =>
                    {
                        connection.Items[Listeners.ConnectionItemKey] = Listeners.AdminListener;
                        return next(connection);
                    });
                });
            }
        });
        builder.Services.AddSingleton<MetadataEndpoint>();
        return builder;
    }

    public static bool IsAdminConnection(this HttpContext context) =>
        context.Features.Get<IConnectionItemsFeature>()?.Items.TryGetValue(Listeners.ConnectionItemKey, out var listener) == true
        && Equals(listener, Listeners.AdminListener);

    /// <summary>Everything that did not arrive on the admin port is a metadata request.</summary>
    public static WebApplication MapMetadata(this WebApplication app)
    {
        var endpoint = app.Services.GetRequiredService<MetadataEndpoint>();
        app.MapWhen(context => !context.IsAdminConnection(), metadata => metadata.Run(endpoint.InvokeAsync));
        return app;
    }
}
