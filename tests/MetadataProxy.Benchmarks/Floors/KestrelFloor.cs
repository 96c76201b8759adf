using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using System.Globalization;
using System.Net;

namespace MetadataProxy.Benchmarks.Floors;

/// <summary>
/// The bare Kestrel floor: a minimal API that answers every GET with the bytes of one file, as application/json.
/// Nothing of the server's: what any ASP.NET Core endpoint costs on this machine.
/// Usage (started by the floors benchmark): MetadataProxy.Benchmarks kestrel-floor PORT FILE; PORT 0 takes a free port,
/// printed as "Now listening on: URL" (the benchmark reads it: a port chosen beforehand could be taken meanwhile).
/// </summary>
internal static class KestrelFloor
{
    public static async Task RunAsync(string[] args)
    {
        var port = int.Parse(args[0], CultureInfo.InvariantCulture);
        var body = await File.ReadAllBytesAsync(args[1]);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, port));
        var app = builder.Build();
        app.MapGet("/{**path}", (HttpContext context) =>
        {
            context.Response.ContentType = "application/json";
            context.Response.ContentLength = body.Length;
            return context.Response.Body.WriteAsync(body).AsTask();
        });
        await app.StartAsync();
        Console.WriteLine($"Now listening on: {app.Urls.Single()}"); // logging is off: the one line the benchmark reads
        await app.WaitForShutdownAsync();
    }
}
