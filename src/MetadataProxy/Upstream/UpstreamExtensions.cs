using Microsoft.Extensions.Options;

namespace MetadataProxy.Upstream;

internal static class UpstreamExtensions
{
    /// <summary>The optional passthrough of allow-listed paths to the VM's own metadata server (issue 12); off by default.</summary>
    public static WebApplicationBuilder AddUpstream(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<UpstreamOptions>().Bind(builder.Configuration.GetSection(UpstreamOptions.Section)).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<UpstreamOptions>, UpstreamOptionsValidator>();
        builder.Services.AddHttpForwarder();
        builder.Services.AddSingleton<UpstreamServer>();
        builder.Services.AddSingleton<UpstreamListings>();
        builder.Services.AddSingleton<UpstreamPassthrough>();
        builder.Services.AddSingleton<ServerMarker>();
        builder.Services.AddHostedService<UpstreamLoopCheck>();

        var mode = builder.Configuration.GetSection(UpstreamOptions.Section).GetValue<UpstreamMode?>(nameof(UpstreamOptions.Mode));
        if (mode is UpstreamMode.Passthrough or UpstreamMode.Auto)
            builder.Services.AddSingleton<IStartupFilter, ServerMarkerStartupFilter>();
        return builder;
    }
}
