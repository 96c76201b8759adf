using k8s.Models;

namespace MetadataProxy.TestServers.Kubernetes;

/// <summary>The objects a token is bound to, for its <c>kubernetes.io</c> claim. A node without a uid is a node the
/// server could not find: the claim then names it only.</summary>
internal sealed record TokenBinding(V1ServiceAccount ServiceAccount, V1Pod? Pod, V1Node? Node, V1Secret? Secret = null);
