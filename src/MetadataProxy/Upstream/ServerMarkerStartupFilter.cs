namespace MetadataProxy.Upstream;

/// <summary>Stamps <see cref="ServerMarker"/> on every answer, first thing, so the loop check can recognise this server.</summary>
internal sealed class ServerMarkerStartupFilter(ServerMarker marker) : IStartupFilter
{
    public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
    {
        app.Use((context, nextMiddleware) =>
        {
            context.Response.Headers[ServerMarker.Header] = marker.Value;
            return nextMiddleware(context);
        });
        next(app);
    };
}
