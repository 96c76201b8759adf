using MetadataProxy.Operations;
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
        builder.Services.AddSingleton<IValidateOptions<ListenerOptions>>(new ListenerOptionsValidator(mode));
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

            if (listen.NodeSocketEnabled && mode == ProxyMode.Kubernetes && Path.IsPathFullyQualified(listen.NodeSocket!) && !OperatingSystem.IsWindows())
                ListenOnNodeSocket(kestrel, listen.NodeSocket!, listeners);

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

    public static bool IsAdminConnection(this HttpContext context) => context.ListenerIs(Listeners.AdminListener);

    public static bool IsNodeSocketConnection(this HttpContext context) => context.ListenerIs(Listeners.NodeSocketListener);

    private static bool ListenerIs(this HttpContext context, string name) =>
        context.Features.Get<IConnectionItemsFeature>()?.Items.TryGetValue(Listeners.ConnectionItemKey, out var listener) == true
        && Equals(listener, name);

    /// <summary>
    /// The node socket: a connection whose peer the kernel does not name as root or this server's own user is closed
    /// before a byte is read (the file mode should already keep it out).
    /// </summary>
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    private static void ListenOnNodeSocket(KestrelServerOptions kestrel, string path, Listeners listeners)
    {
        NodeSocketFile.Prepare(path);
        kestrel.ListenUnixSocket(path, l =>
        {
            listeners.NodeSocket.Add(l);
            l.Use(next => connection =>
            {
                var socket = connection.Features.Get<IConnectionSocketFeature>()?.Socket;
                var uid = socket is null ? null : NodeSocketPeer.UidOf(socket);
                if (!NodeSocketPeer.IsTrusted(uid))
                {
                    connection.Features.Get<IConnectionLifetimeFeature>()?.Abort();
                    l.ApplicationServices.GetRequiredService<ProxyMetrics>().NodeSocketRefused();
                    return Task.CompletedTask;
                }

                connection.Items[Listeners.ConnectionItemKey] = Listeners.NodeSocketListener;
                return next(connection);
            });
        });
    }

    /// <summary>Everything that did not arrive on the admin port is a metadata request.</summary>
    public static WebApplication MapMetadata(this WebApplication app)
    {
        var listen = app.Services.GetRequiredService<IOptions<ListenerOptions>>().Value;
        if (app.Services.GetRequiredService<Listeners>().NodeSocket.Count > 0)
        {
            app.Lifetime.ApplicationStarted.Register(() =>
            {
                if (!OperatingSystem.IsWindows())
                    NodeSocketFile.Restrict(listen.NodeSocket!);
            });
        }
        app.MapWhen(context => !context.IsAdminConnection(),
            metadata => metadata.Run(context => context.RequestServices.GetRequiredService<MetadataEndpoint>().InvokeAsync(context)));
        return app;
    }
}
