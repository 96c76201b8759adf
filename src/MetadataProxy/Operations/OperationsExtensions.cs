using System.Text;
using MetadataProxy.Hosting;
using Microsoft.Extensions.Options;
using Prometheus;

namespace MetadataProxy.Operations;

internal static class OperationsExtensions
{
    public static WebApplicationBuilder AddOperations(this WebApplicationBuilder builder, ProxyMode mode)
    {
        if (mode is ProxyMode.Kubernetes or ProxyMode.PullSecrets)
        {
            // One JSON object a line for the cluster's log pipeline; a person at a terminal gets the plain text.
            builder.Logging.ClearProviders();
            builder.Logging.AddJsonConsole();
        }

        builder.Services.AddSingleton(_ =>
        {
            var registry = Metrics.NewCustomRegistry();
            DotNetStats.Register(registry); // GC, memory, threads and process CPU/start time, on the same /metrics
            return registry;
        });
        builder.Services.AddSingleton<ProxyMetrics>();
        if (mode == ProxyMode.PullSecrets)
            return builder; // no metadata listener to check
        builder.Services.AddSingleton<MetadataListenerCheck>();
        builder.Services.AddSingleton<IReadinessCheck>(sp => sp.GetRequiredService<MetadataListenerCheck>());
        builder.Services.AddHostedService(sp => sp.GetRequiredService<MetadataListenerCheck>());
        builder.Services.AddOptions<DatapathProbeOptions>().Bind(builder.Configuration.GetSection(DatapathProbeOptions.Section)).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<DatapathProbeOptions>, DatapathProbeOptionsValidator>();
        // Only where the probe runs (the DaemonSet's init container writes the file): elsewhere nothing would ever write it.
        if (!string.IsNullOrEmpty(builder.Configuration[$"{DatapathProbeOptions.Section}:{nameof(DatapathProbeOptions.DatapathProbeFile)}"]))
        {
            builder.Services.AddSingleton<DatapathProbeCheck>();
            builder.Services.AddSingleton<IReadinessCheck>(sp => sp.GetRequiredService<DatapathProbeCheck>());
            builder.Services.AddHostedService(sp => sp.GetRequiredService<DatapathProbeCheck>());
        }

        return builder;
    }

    /// <summary>The admin port: <c>/healthz</c> (liveness), <c>/readyz</c> (every readiness check), <c>/metrics</c>.</summary>
    public static WebApplication MapOperations(this WebApplication app)
    {
        app.Lifetime.ApplicationStarted.Register(() => StartupPhase.Reached(app.Logger, "host started (Kestrel listening)"));
        var answeredReady = 0;
        app.MapWhen(context => context.IsAdminConnection(), admin => admin.Run(async context =>
        {
            switch (context.Request.Path.Value)
            {
                case "/healthz":
                    await WriteTextAsync(context, StatusCodes.Status200OK, "ok\n");
                    break;
                case "/readyz":
                    var reasons = context.RequestServices.GetServices<IReadinessCheck>().Select(c => c.NotReadyReason()).OfType<string>().ToList();
                    if (reasons.Count == 0 && Interlocked.Exchange(ref answeredReady, 1) == 0)
                        StartupPhase.Reached(app.Logger, "/readyz answers 200");
                    await WriteTextAsync(context, reasons.Count == 0 ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable,
                        reasons.Count == 0 ? "ready\n" : string.Concat(reasons.Select(r => r + "\n")));
                    break;
                case "/metrics":
                    context.Response.ContentType = "text/plain; version=0.0.4; charset=utf-8";
                    await context.RequestServices.GetRequiredService<CollectorRegistry>().CollectAndExportAsTextAsync(context.Response.Body, context.RequestAborted);
                    break;
                default:
                    await WriteTextAsync(context, StatusCodes.Status404NotFound, "not found: the admin port serves /healthz, /readyz and /metrics\n");
                    break;
            }
        }));
        return app;
    }

    private static Task WriteTextAsync(HttpContext context, int status, string text)
    {
        var body = Encoding.UTF8.GetBytes(text);
        context.Response.StatusCode = status;
        context.Response.ContentType = "text/plain; charset=utf-8";
        context.Response.ContentLength = body.Length;
        return context.Response.Body.WriteAsync(body, context.RequestAborted).AsTask();
    }
}
