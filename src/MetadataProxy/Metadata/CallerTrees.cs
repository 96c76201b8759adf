using System.Collections.Concurrent;
using MetadataProxy.Identity;

namespace MetadataProxy.Metadata;

/// <summary>
/// The tree as one caller sees it (its service accounts grafted under <c>instance/</c>), built once per identity and
/// tree rather than copied for every request: the copies were the hot path's largest allocation (issue 11). Identities
/// compare by value, so a pod's next request finds the tree its previous one built; a changed ServiceAccount or pod
/// is a different identity. Bounded: past <see cref="Capacity"/> identities the cache starts over.
/// </summary>
internal sealed class CallerTrees(DirectoryNode root, Func<CallerIdentity, string> emailOf)
{
    private const int Capacity = 4096;

    private readonly ConcurrentDictionary<CallerIdentity, DirectoryNode> _trees = new();

    public DirectoryNode Root { get; } = root;

    public DirectoryNode For(CallerOutcome caller)
    {
        if (caller is not CallerOutcome.Resolved { Identity: var identity })
            return Graft(caller);
        if (_trees.TryGetValue(identity, out var tree))
            return tree;
        if (_trees.Count >= Capacity)
            _trees.Clear();
        return _trees.GetOrAdd(identity, _ => Graft(caller));
    }

    private DirectoryNode Graft(CallerOutcome caller)
    {
        var accounts = MetadataTreeBuilder.ServiceAccounts(caller, emailOf);
        return Root.With("instance", ((DirectoryNode)Root.Children["instance"]).With("service-accounts", accounts));
    }
}
