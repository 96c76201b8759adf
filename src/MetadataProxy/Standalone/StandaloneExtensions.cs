using MetadataProxy.Identity;
using MetadataProxy.Metadata;
using MetadataProxy.Tokens;
using Microsoft.Extensions.Options;

namespace MetadataProxy.Standalone;

internal static class StandaloneExtensions
{
    /// <summary>Identities from configuration, tokens from the machine's Google credentials.</summary>
    public static WebApplicationBuilder AddStandalone(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<StandaloneOptions>()
            .Bind(builder.Configuration.GetSection(StandaloneOptions.Section))
            .PostConfigure(o =>
            {
                // With nothing configured, the machine's own loopback callers are the one identity.
                if (o.Identities.Count == 0)
                    o.Identities.Add(new StandaloneIdentityOptions { Cidr = "127.0.0.0/8,::1/128" });
            })
            .ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<StandaloneOptions>, StandaloneOptionsValidator>();
        builder.Services.PostConfigure<MetadataOptions>(m =>
        {
            // A laptop has no project or instance of its own: documented placeholders keep clients working.
            m.ProjectId ??= "local-project";
            m.NumericProjectId ??= "0";
            m.InstanceId ??= "0";
            m.InstanceName ??= Environment.MachineName.ToLowerInvariant();
            m.Hostname ??= Environment.MachineName.ToLowerInvariant();
        });
        builder.Services.AddSingleton<ICallerResolver, StandaloneCallerResolver>();
        builder.Services.AddSingleton<StandaloneCredentials>();
        builder.Services.AddSingleton<ITokenProvider, StandaloneTokenProvider>();
        return builder;
    }
}
