using MetadataProxy.Identity;

namespace MetadataProxy.Metadata;

/// <summary>Builds the GKE-profile tree under <c>/computeMetadata/v1/</c> from configuration (spec §4).</summary>
internal static class MetadataTreeBuilder
{
    public static DirectoryNode Build(MetadataOptions options)
    {
        // AT-1: set in this order, so listed sorted as the spec's GKE profile shows them.
        var instanceAttributes = new OrderedDictionary<string, MetadataNode>(StringComparer.Ordinal);
        AddText(instanceAttributes, "cluster-location", options.ClusterLocation);
        AddText(instanceAttributes, "cluster-name", options.ClusterName);
        AddText(instanceAttributes, "cluster-uid", options.ClusterUid);

        var instance = new Dictionary<string, MetadataNode>(StringComparer.Ordinal)
        {
            ["attributes"] = AttributeMap(instanceAttributes),
            ["service-accounts"] = CallerDirectoryNode.Instance,
        };
        AddText(instance, "hostname", options.Hostname);
        AddNumber(instance, "id", options.InstanceId);
        AddText(instance, "name", options.InstanceName);
        AddText(instance, "zone", options.FullZone());

        var projectAttributes = new OrderedDictionary<string, MetadataNode>(StringComparer.Ordinal);
        foreach (var (key, value) in options.ProjectAttributes)
            projectAttributes[key] = ValueNode.Text(value);
        var project = new Dictionary<string, MetadataNode>(StringComparer.Ordinal)
        {
            ["attributes"] = AttributeMap(projectAttributes),
        };
        AddNumber(project, "numeric-project-id", options.NumericProjectId);
        AddText(project, "project-id", options.ProjectId);

        var universe = new Dictionary<string, MetadataNode>(StringComparer.Ordinal);
        AddText(universe, "universe-domain", options.UniverseDomain);

        return new DirectoryNode(new Dictionary<string, MetadataNode>(StringComparer.Ordinal)
        {
            ["instance"] = new DirectoryNode(instance),
            ["project"] = new DirectoryNode(project),
            ["universe"] = new DirectoryNode(universe),
        });
    }

    /// <summary>
    /// SA-1..SA-5: the caller's service accounts, listed as <c>default/</c> and by e-mail.
    /// </summary>
    public static DirectoryNode ServiceAccounts(CallerOutcome outcome, Func<CallerIdentity, string> emailOf)
    {
        if (outcome is CallerOutcome.NoIdentity none)
            return new DirectoryNode(new Dictionary<string, MetadataNode>(), KeyStyle.Free, missingChildMessage: none.Reason);

        var identity = ((CallerOutcome.Resolved)outcome).Identity;
        var email = emailOf(identity);
        var account = new DirectoryNode(new Dictionary<string, MetadataNode>(StringComparer.Ordinal)
        {
            ["aliases"] = ValueNode.List(["default"]),
            ["email"] = ValueNode.Text(email),
            ["identity"] = new CredentialLeaf(CredentialKind.IdToken, identity),
            ["scopes"] = ValueNode.List(identity.Scopes),
            ["token"] = new CredentialLeaf(CredentialKind.AccessToken, identity),
        });
        var accounts = new Dictionary<string, MetadataNode>(StringComparer.Ordinal) { ["default"] = account };
        if (!email.Contains('/', StringComparison.Ordinal))
            accounts[email] = account; // a principal:// identifier cannot be a path segment; it is reached as default/ only
        return new DirectoryNode(accounts, KeyStyle.Free);
    }

    /// <summary>Attribute keys are users' (verbatim in JSON), listed in the order set; bootstrap keys are concealed (AT-5).</summary>
    private static DirectoryNode AttributeMap(OrderedDictionary<string, MetadataNode> attributes) =>
        new(attributes, KeyStyle.Free, ConcealedAttributes.Keys, keyOrder: KeyOrder.AsSet);

    private static void AddText(IDictionary<string, MetadataNode> directory, string key, string? value)
    {
        if (!string.IsNullOrEmpty(value))
            directory[key] = ValueNode.Text(value);
    }

    private static void AddNumber(Dictionary<string, MetadataNode> directory, string key, string? digits)
    {
        if (!string.IsNullOrEmpty(digits))
            directory[key] = ValueNode.Number(digits);
    }
}
