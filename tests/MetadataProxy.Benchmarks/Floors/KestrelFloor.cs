using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using System.Globalization;

namespace MetadataProxy.Benchmarks.Floors;

/// <summary>
/// The bare Kestrel floor: a minimal API that answers every GET with the bytes of one file, as application/json.
/// Nothing of the server's: what any ASP.NET Core endpoint costs on this machine.
/// Usage (started by the floors benchmark): MetadataProxy.Benchmarks kestrel-floor PORT FILE
/// </summary>
internal static class KestrelFloor
{
    public static async Task RunAsync(string[] args)
    {
        var port = int.Parse(args[0], CultureInfo.InvariantCulture);
        var body = await File.ReadAllBytesAsync(args[1]);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(k => k.ListenLocalhost(port));
        var app = builder.Build();
        app.MapGet("/{**path}", (HttpContext context) =>
        {
            context.Response.ContentType = "application/json";
            context.Response.ContentLength = body.Length;
            return context.Response.Body.WriteAsync(body).AsTask();
        });
        await app.RunAsync();
    }
}
