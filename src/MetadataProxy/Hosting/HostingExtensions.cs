using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.HttpOverrides;
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
            .PostConfigure(o => o.ApplyDefaults(mode))
            .ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<ListenerOptions>, ListenerOptionsValidator>();
        builder.Services.AddSingleton<Listeners>();

        // Kestrel is built with the app, before start-up validation runs, so it reads the same keys unvalidated:
        // an invalid URL binds nothing here and is reported, with every other problem, by ListenerOptionsValidator.
        var listen = builder.Configuration.GetSection(ListenerOptions.Section).Get<ListenerOptions>() ?? new ListenerOptions();
        listen.ApplyDefaults(mode);
        builder.Services.AddOptions<KestrelServerOptions>().Configure<Listeners>((kestrel, listeners) =>
        {
            kestrel.AddServerHeader = false; // G-10: the Server header is ours.
            // One node's pods share this server: no single caller may exhaust it (GKE's own caps a node at 500).
            kestrel.Limits.MaxConcurrentConnections = listen.MaxConnections;
            if (ListenAddress.TryParse(listen.Metadata, out var metadata, out _))
            {
                foreach (var endpoint in metadata)
                    kestrel.Listen(endpoint, l => listeners.Metadata.Add(l));
            }

            if (ListenAddress.TryParse(listen.Admin, out var admin, out _))
            {
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
            }
        });
        builder.Services.AddSingleton<MetadataEndpoint>();

        // FORWARDEDHEADERS_ENABLED=true makes ASP.NET rewrite the remote address from X-Forwarded-For and strip the
        // header before the guard sees it; here no header may ever name the caller (G-5, decision 2).
        builder.Services.PostConfigure<ForwardedHeadersOptions>(o => o.ForwardedHeaders = ForwardedHeaders.None);
        return builder;
    }

    public static bool IsAdminConnection(this HttpContext context) =>
        context.Features.Get<IConnectionItemsFeature>()?.Items.TryGetValue(Listeners.ConnectionItemKey, out var listener) == true
        && Equals(listener, Listeners.AdminListener);

    /// <summary>Everything that did not arrive on the admin port is a metadata request.</summary>
    public static WebApplication MapMetadata(this WebApplication app)
    {
        app.MapWhen(context => !context.IsAdminConnection(),
            metadata => metadata.Run(context => context.RequestServices.GetRequiredService<MetadataEndpoint>().InvokeAsync(context)));
        return app;
    }
}
