using k8s;
using k8s.Models;

namespace MetadataProxy.TestServers.Kubernetes;

/// <summary>One retained write to an object: its state before (null when created; the final state when deleted)
/// and after (null when deleted).</summary>
internal sealed record ObjectChange<T>(long ResourceVersion, T? Previous, T? Current)
    where T : class, IKubernetesObject<V1ObjectMeta>
{
    /// <summary>What a watcher with this filter sees, as the watch cache's convertToWatchEvent decides: an object
    /// that starts matching is ADDED, one that stops matching is DELETED (its previous state, at this change's
    /// resourceVersion), and a change invisible to the filter is nothing.</summary>
    public (string Type, T Object)? ForWatcher(Func<T, bool> matches)
    {
        var currentMatches = Current is not null && matches(Current);
        var previousMatches = Previous is not null && matches(Previous);
        switch (currentMatches, previousMatches)
        {
            case (true, false):
                return ("ADDED", Current!);
            case (true, true):
                return ("MODIFIED", Current!);
            case (false, true):
                var gone = Previous!;
                if (gone.Metadata.ResourceVersion != KubeObjects.Format(ResourceVersion))
                {
                    gone = KubeObjects.Clone(gone);
                    gone.Metadata.ResourceVersion = KubeObjects.Format(ResourceVersion);
                }

                return ("DELETED", gone);
            default:
                return null;
        }
    }
}
