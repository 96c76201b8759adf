using MetadataProxy.Hosting;
using MetadataProxy.Identity;
using Microsoft.Extensions.Options;

namespace MetadataProxy.Node;

internal static class NodeExtensions
{
    /// <summary>The node's own identity, for the node socket and (by policy) callers in the node's network namespace.</summary>
    public static WebApplicationBuilder AddNodeIdentity(this WebApplicationBuilder builder)
    {
        var configuration = builder.Configuration;
        builder.Services.AddOptions<NodeIdentityOptions>()
            .Configure<IOptions<IdentityOptions>, IOptions<ListenerOptions>>((o, identity, listen) =>
            {
                // The downward API's names (manifests/daemonset.yaml), read as plain variables.
                o.ServiceAccount = identity.Value.NodeServiceAccount;
                o.PodName = configuration["POD_NAME"];
                o.PodUid = configuration["POD_UID"];
                o.PodNamespace = configuration["POD_NAMESPACE"];
                o.PodServiceAccount = configuration["POD_SERVICE_ACCOUNT"];
                o.Wanted = listen.Value.NodeSocketEnabled || identity.Value.HostNetworkPolicy == HostNetworkPolicy.NodeIdentity;
            })
            .ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<NodeIdentityOptions>, NodeIdentityOptionsValidator>();
        builder.Services.AddSingleton<NodeIdentity>();
        return builder;
    }
}
