using MetadataProxy.Operations;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.Options;

namespace MetadataProxy.Hosting;

internal static class HostingExtensions
{
    /// <summary>
    /// From SIGTERM to exit at most (the host's ShutdownTimeout): room for the longest request budget (the node socket's
    /// registry exchange, 6 s) to finish, well inside the DaemonSet's 30 s grace period.
    /// </summary>
    public static readonly TimeSpan ShutdownTimeout = TimeSpan.FromSeconds(8);

    /// <summary>Two Kestrel listeners: the metadata API and the admin port (health, readiness, metrics).</summary>
    public static WebApplicationBuilder AddMetadataHosting(this WebApplicationBuilder builder, ProxyMode mode)
    {
        builder.Services.AddOptions<ListenerOptions>()
            .Bind(builder.Configuration.GetSection(ListenerOptions.Section))
            .PostConfigure(o => o.ApplyDefaults(mode))
            .ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<ListenerOptions>>(new ListenerOptionsValidator(mode));
        builder.Services.AddSingleton<Listeners>();
        builder.Services.AddSingleton<INodeAddresses, NodeAddresses>();
        // Zero-gap upgrades (issue 10, point 4): the next release binds the same addresses beside this one, and this one
        // hands over on SIGTERM by closing its listening sockets before its connections.
        // Only the DaemonSet has a successor to hand over to. Elsewhere a second instance must meet "address in use"
        // rather than silently take a share of the callers, and a Deployment's replicas share no port (the pull-secret
        // controller's Lease is released at once on stop).
        builder.Services.AddSingleton<ListenSockets>();
        if (mode == ProxyMode.Kubernetes)
        {
            builder.Services.AddOptions<SocketTransportOptions>().Configure<ListenSockets>((o, sockets) => o.CreateBoundListenSocket = sockets.Create);
            builder.Services.AddHostedService<ListenerHandover>();
        }

        // Kestrel is built with the app, before start-up validation runs, so it reads the same keys unvalidated:
        // an invalid URL binds nothing here and is reported, with every other problem, by ListenerOptionsValidator.
        var listen = builder.Configuration.GetSection(ListenerOptions.Section).Get<ListenerOptions>() ?? new ListenerOptions();
        listen.ApplyDefaults(mode);
        // One node's pods share this server: no caller may exhaust it (issue 9, rows 1 and 2). Each listener counts its
        // own connections, by source, in a ConnectionGate; Kestrel's own server-wide cap would count the node's
        // probes with the pods' connections.
        var metadataGate = new ConnectionGate(Listeners.MetadataListener, listen.MaxConnections, listen.MaxConnectionsPerSource, nodeExemptFromTotal: false);
        var adminGate = new ConnectionGate(Listeners.AdminListener, listen.MaxConnections, listen.AdminMaxConnectionsPerSource, nodeExemptFromTotal: true);
        var nodeSocketGate = new ConnectionGate(Listeners.NodeSocketListener, listen.MaxConnections, listen.MaxConnections, nodeExemptFromTotal: false);
        builder.Services.AddOptions<KestrelServerOptions>().Configure<Listeners, INodeAddresses>((kestrel, listeners, node) =>
        {
            kestrel.AddServerHeader = false; // G-10: the Server header is ours.
            // A slowloris connection is closed once its headers are late, an idle one once its keep-alive ends;
            // neither bounds a wait_for_change, whose request is complete and being answered (W-10).
            kestrel.Limits.RequestHeadersTimeout = listen.RequestHeadersTimeout;
            kestrel.Limits.KeepAliveTimeout = listen.KeepAliveTimeout;
            // Kestrel binds in this order: the admin endpoints answer probes before the metadata listeners join the
            // node's traffic.
            if (ListenAddress.TryParse(listen.Admin, out var admin, out _))
            {
                foreach (var endpoint in admin)
                {
                    kestrel.Listen(endpoint, l =>
                    {
                        listeners.Admin.Add(l);
                        GatedListener.Use(l, adminGate, metadataFlavor: false);
                        l.Use(next => connection =>
                        {
                            connection.Items[Listeners.ConnectionItemKey] = Listeners.AdminListener;
                            return next(connection);
                        });
                    });
                }
            }

            if (listen.AdminSocketEnabled && Path.IsPathFullyQualified(listen.AdminSocket!) && !OperatingSystem.IsWindows())
                ListenOnAdminSocket(kestrel, listen.AdminSocket!);

            if (listen.NodeSocketEnabled && mode == ProxyMode.Kubernetes && Path.IsPathFullyQualified(listen.NodeSocket!) && !OperatingSystem.IsWindows())
                ListenOnNodeSocket(kestrel, listen.NodeSocket!, listeners, nodeSocketGate);

            if (mode != ProxyMode.PullSecrets && ListenAddress.TryParse(listen.Metadata, out var metadata, out _)) // no metadata API in that mode
            {
                foreach (var endpoint in metadata)
                {
                    if (OptionalListenAddress.IsAbsent(endpoint, node))
                    {
                        listeners.MetadataAbsent.Add(endpoint);
                        continue;
                    }

                    kestrel.Listen(endpoint, l =>
                    {
                        listeners.Metadata.Add(l);
                        GatedListener.Use(l, metadataGate, metadataFlavor: true);
                    });
                }
            }
        });

        // On SIGTERM ListenerHandover closes the listening sockets, then Kestrel lets requests in flight finish and closes
        // idle keep-alive connections. Issue 9, row 5: waiters are answered the moment SIGTERM arrives, so the drain is
        // short; whatever still runs after ShutdownTimeout is cut off, and the process is gone inside the grace period.
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = ShutdownTimeout);
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
    private static void ListenOnNodeSocket(KestrelServerOptions kestrel, string path, Listeners listeners, ConnectionGate gate)
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
            GatedListener.Use(l, gate, metadataFlavor: true);
        });
    }

    /// <summary>The admin endpoints for this pod's own probes (<see cref="ListenerOptions.AdminSocket"/>, <see cref="AdminProbe"/>).</summary>
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    private static void ListenOnAdminSocket(KestrelServerOptions kestrel, string path)
    {
        NodeSocketFile.Prepare(path, "Listen:AdminSocket");
        kestrel.ListenUnixSocket(path, l => l.Use(next => connection =>
        {
            connection.Items[Listeners.ConnectionItemKey] = Listeners.AdminListener;
            return next(connection);
        }));
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
        // A singleton, resolved once from the root provider at the first request (as before, not at build): asking
        // RequestServices for it on every request opened a DI scope per request.
        MetadataEndpoint? endpoint = null;
        app.MapWhen(context => !context.IsAdminConnection(),
            metadata => metadata.Run(context => (endpoint ??= app.Services.GetRequiredService<MetadataEndpoint>()).InvokeAsync(context)));
        return app;
    }
}
