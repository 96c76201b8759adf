using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;

namespace MetadataProxy.Node;

internal sealed partial class NodeIdentityOptionsValidator : IValidateOptions<NodeIdentityOptions>
{
    public ValidateOptionsResult Validate(string? name, NodeIdentityOptions options)
    {
        var problems = new List<string>();
        if (!string.IsNullOrWhiteSpace(options.ServiceAccount)
            && (options.Account is not { } configured || !DnsLabel().IsMatch(configured.Namespace) || !DnsSubdomain().IsMatch(configured.Name)))
        {
            problems.Add($"Identity:NodeServiceAccount '{options.ServiceAccount}' must be NAMESPACE/NAME of a Kubernetes ServiceAccount.");
        }
        else if (options.Wanted && options.Account is null)
        {
            problems.Add("The node identity (Listen:NodeSocket or Identity:HostNetworkPolicy=NodeIdentity) needs Identity:NodeServiceAccount, " +
                         "or POD_NAMESPACE and POD_SERVICE_ACCOUNT from the downward API (metadata.namespace, spec.serviceAccountName).");
        }
        else if (options.Wanted && options.BindsToOwnPod && (string.IsNullOrEmpty(options.PodName) || string.IsNullOrEmpty(options.PodUid)))
        {
            problems.Add("The node identity's tokens are bound to the server's own pod: set POD_NAME and POD_UID from the downward API (metadata.name, metadata.uid).");
        }

        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
    }

    [GeneratedRegex("^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$", RegexOptions.CultureInvariant)]
    private static partial Regex DnsLabel();

    [GeneratedRegex(@"^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$", RegexOptions.CultureInvariant)]
    private static partial Regex DnsSubdomain();
}
