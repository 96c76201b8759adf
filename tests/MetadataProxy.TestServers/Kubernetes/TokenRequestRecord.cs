using k8s.Models;

namespace MetadataProxy.TestServers.Kubernetes;

/// <summary>One TokenRequest as the server received it (audiences and expirationSeconds as sent, before defaulting)
/// and how it answered: <see cref="StatusCode"/> 201 with <see cref="Token"/>, or the error's code and reason.</summary>
public sealed record TokenRequestRecord(
    string Namespace,
    string ServiceAccount,
    IReadOnlyList<string> Audiences,
    long? ExpirationSeconds,
    V1BoundObjectReference? BoundObjectRef,
    int StatusCode,
    string? Reason,
    string? Token);
