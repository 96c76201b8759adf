using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace MetadataProxy.CredentialProvider.Tests.Infrastructure;

/// <summary>
/// The server side of the registry contract, small: the node socket's node-token and pod-token routes and the metadata
/// API's token route, on a Unix socket and optionally on 127.0.0.1:0. Tokens name where they came from so a test can
/// tell which path answered.
/// </summary>
internal sealed class StandInServer : IAsyncDisposable
{
    public const string NodeToken = "ya29.node-token";
    public const string MetadataToken = "ya29.metadata-token";
    public const string PodTokenPrefix = "ya29.pod-token-for-";

    private readonly WebApplication _app;

    private StandInServer(WebApplication app, string socketPath)
    {
        _app = app;
        SocketPath = socketPath;
    }

    public string SocketPath { get; }

    /// <summary>host:port of the TCP listener, as GCE_METADATA_HOST wants it.</summary>
    public string? TcpAddress { get; private set; }

    public StandInBehaviour Behaviour { get; } = new();

    public ConcurrentQueue<RecordedRequest> Requests { get; } = new();

    public static async Task<StandInServer> StartAsync(TempDirectory directory, bool tcp = false)
    {
        var socketPath = directory.File("node.sock");
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(kestrel =>
        {
            kestrel.ListenUnixSocket(socketPath);
            if (tcp)
                kestrel.Listen(IPAddress.Loopback, 0);
        });
        var app = builder.Build();
        var server = new StandInServer(app, socketPath);
        app.Run(server.AnswerAsync);
        await app.StartAsync(TestContext.Current.CancellationToken);
        if (tcp)
        {
            var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses;
            server.TcpAddress = new Uri(addresses.Single(a => a.StartsWith("http://127.0.0.1", StringComparison.Ordinal))).Authority;
        }

        return server;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync(CancellationToken.None);
        await _app.DisposeAsync();
    }

    private async Task AnswerAsync(HttpContext context)
    {
        var request = context.Request;
        var body = await new StreamReader(request.Body).ReadToEndAsync(context.RequestAborted);
        Requests.Enqueue(new RecordedRequest(request.Method, request.Path.Value ?? "", request.Headers["Metadata-Flavor"].FirstOrDefault(), request.ContentType, body));

        if (!Behaviour.OmitMetadataFlavor)
            context.Response.Headers["Metadata-Flavor"] = "Google";
        if (request.Headers["Metadata-Flavor"] != "Google")
        {
            await PlainAsync(context, 403, "Missing Metadata-Flavor:Google header.");
            return;
        }

        if (Behaviour.Hang)
        {
            await Task.Delay(Timeout.Infinite, context.RequestAborted).ContinueWith(_ => { }, TaskScheduler.Default);
            return;
        }

        if (Behaviour.Status != 200)
        {
            var reason = Behaviour.Reason;
            if (Behaviour.EchoTokenInReason && body.Length > 0)
                reason += " token=" + JsonDocument.Parse(body).RootElement.GetProperty("serviceAccountToken").GetString();
            await PlainAsync(context, Behaviour.Status, reason);
            return;
        }

        var token = (request.Method, request.Path.Value) switch
        {
            ("GET", "/registry/v1/node-token") => NodeToken,
            ("POST", "/registry/v1/pod-token") => PodTokenFor(body),
            ("GET", "/computeMetadata/v1/instance/service-accounts/default/token") => MetadataToken,
            _ => null,
        };
        if (token is null)
        {
            await PlainAsync(context, 404, $"no route {request.Method} {request.Path}");
            return;
        }

        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(
            Behaviour.RawTokenBody ?? JsonSerializer.Serialize(new { access_token = token, expires_in = Behaviour.ExpiresIn, token_type = "Bearer" }));
    }

    /// <summary>The pulling pod's identity: its GSA annotation if any, else its federated principal.</summary>
    private static string PodTokenFor(string body)
    {
        var root = JsonDocument.Parse(body).RootElement;
        var gsa = root.TryGetProperty("serviceAccountAnnotations", out var annotations)
            && annotations.TryGetProperty("iam.gke.io/gcp-service-account", out var value)
            ? value.GetString()
            : "principal";
        return PodTokenPrefix + gsa;
    }

    private static async Task PlainAsync(HttpContext context, int status, string text)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "text/plain; charset=utf-8";
        await context.Response.WriteAsync(text + "\n");
    }
}
