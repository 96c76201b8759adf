using MetadataProxy.Tokens;
using Microsoft.Extensions.Options;

namespace MetadataProxy.Metadata;

internal static class MetadataExtensions
{
    public static WebApplicationBuilder AddMetadata(this WebApplicationBuilder builder)
    {
        var section = builder.Configuration.GetSection(MetadataOptions.Section);
        builder.Services.AddOptions<MetadataOptions>()
            .Bind(section)
            .Configure(metadata => metadata.ProjectAttributes = ConfiguredAttributes.Read(section.GetSection(nameof(MetadataOptions.ProjectAttributes))))
            .PostConfigure<IOptions<WorkloadIdentityOptions>>((metadata, workloadIdentity) =>
            {
                // The pool's project is the project pods see, unless configured apart.
                metadata.ProjectId ??= workloadIdentity.Value.ProjectId;
                metadata.NumericProjectId ??= workloadIdentity.Value.ProjectNumber;
            })
            .ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<MetadataOptions>, StartupMetadataValidator>();
        builder.Services.AddOptions<WorkloadIdentityOptions>().Bind(builder.Configuration.GetSection(WorkloadIdentityOptions.Section));
        builder.Services.AddOptions<TokenOptions>().Bind(builder.Configuration.GetSection(TokenOptions.Section))
            .Validate(o => o.UpstreamDeadline > TimeSpan.Zero && o.UpstreamDeadline <= TimeSpan.FromSeconds(30),
                "Tokens:UpstreamDeadline must be between 0 and 30 seconds (default 00:00:02.5).")
            .Validate(o => o.KsaTokenLifetime >= TimeSpan.FromMinutes(10) && o.KsaTokenLifetime <= TimeSpan.FromHours(48),
                "Tokens:KsaTokenLifetime must be between 00:10:00 (the API server's minimum) and 2.00:00:00 (Google STS's maximum).")
            .Validate(o => o.MaxConcurrentGoogleCalls is >= 1 and <= 1000, "Tokens:MaxConcurrentGoogleCalls must be between 1 and 1000 (default 16).")
            .ValidateOnStart();
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<MetadataChangeNotifier>();
        builder.Services.AddSingleton<MetadataTreeSource>();
        builder.Services.AddSingleton<CredentialService>();
        builder.Services.AddSingleton<MetadataService>();
        return builder;
    }
}
