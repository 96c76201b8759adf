namespace MetadataProxy.Metadata;

/// <summary>
/// Node-bootstrap and secret-bearing attributes that a pod must never read (AT-5): they answer 404, as GKE's
/// metadata server does (Go clients read "not defined"), whether the node has them or not. The body and the
/// metric outcome <c>concealed</c> still tell a person that concealment, not absence, answered.
/// </summary>
internal static class ConcealedAttributes
{
    public static readonly IReadOnlySet<string> Keys = new HashSet<string>(StringComparer.Ordinal)
    {
        "kube-env", "kube-labels", "kubelet-config", "configure-sh", "user-data",
        "startup-script", "startup-script-url", "shutdown-script", "shutdown-script-url",
        "ssh-keys", "sshKeys", "block-project-ssh-keys",
        "windows-startup-script-ps1", "windows-startup-script-cmd", "windows-startup-script-bat", "windows-startup-script-url",
        "sysprep-specialize-script-ps1", "sysprep-specialize-script-cmd", "sysprep-specialize-script-bat", "sysprep-specialize-script-url",
    };
}
