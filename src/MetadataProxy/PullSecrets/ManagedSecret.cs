using System.Globalization;
using k8s.Models;

namespace MetadataProxy.PullSecrets;

/// <summary>
/// The controller's bookkeeping on a pull Secret: a label that marks it as ours, and annotations saying for whom, for
/// which registries and until when its credential holds. The token itself is only ever in <c>data</c>.
/// </summary>
internal sealed record ManagedSecret(string? Identity, string? Registries, DateTimeOffset? IssuedAt, DateTimeOffset? ExpiresAt)
{
    public const string ManagedByLabel = "app.kubernetes.io/managed-by";
    public const string ManagedByValue = "metadata-proxy-pull-secrets";
    public const string IdentityAnnotation = "metadataproxy.io/google-identity";
    public const string RegistriesAnnotation = "metadataproxy.io/registries";
    public const string IssuedAtAnnotation = "metadataproxy.io/issued-at";
    public const string ExpiresAtAnnotation = "metadataproxy.io/expires-at";
    public const string WrittenByAnnotation = "metadataproxy.io/written-by";

    public static bool IsOurs(V1Secret secret) =>
        secret.Metadata?.Labels?.TryGetValue(ManagedByLabel, out var value) == true && value == ManagedByValue
        && secret.Type == DockerConfig.SecretType;

    public static ManagedSecret Read(V1Secret secret)
    {
        var annotations = secret.Metadata?.Annotations ?? new Dictionary<string, string>();
        string? Get(string key) => annotations.TryGetValue(key, out var value) ? value : null;
        return new ManagedSecret(
            Get(IdentityAnnotation),
            Get(RegistriesAnnotation),
            Time(Get(IssuedAtAnnotation)),
            Time(Get(ExpiresAtAnnotation)));
    }

    /// <summary>The new Secret, empty: created first so that the token can be bound to its UID.</summary>
    public static V1Secret Placeholder(V1ServiceAccount account, string name, string writer) => new()
    {
        ApiVersion = "v1",
        Kind = "Secret",
        Type = DockerConfig.SecretType,
        Metadata = new V1ObjectMeta
        {
            Name = name,
            NamespaceProperty = account.Metadata.NamespaceProperty,
            Labels = new Dictionary<string, string> { [ManagedByLabel] = ManagedByValue },
            Annotations = new Dictionary<string, string> { [WrittenByAnnotation] = writer },
            OwnerReferences = [Owner(account)],
        },
        Data = new Dictionary<string, byte[]> { [DockerConfig.Key] = DockerConfig.Empty },
    };

    /// <summary><paramref name="current"/> holding the new credential, owned by the account as it is now.</summary>
    public static V1Secret Filled(V1Secret current, V1ServiceAccount account, ManagedSecret record, byte[] config, string writer)
    {
        var annotations = new Dictionary<string, string>(current.Metadata.Annotations ?? new Dictionary<string, string>())
        {
            [IdentityAnnotation] = record.Identity ?? "",
            [RegistriesAnnotation] = record.Registries ?? "",
            [IssuedAtAnnotation] = Format(record.IssuedAt!.Value),
            [ExpiresAtAnnotation] = Format(record.ExpiresAt!.Value),
            [WrittenByAnnotation] = writer,
        };
        current.Metadata.Annotations = annotations;
        current.Metadata.OwnerReferences = [Owner(account)];
        current.Data = new Dictionary<string, byte[]> { [DockerConfig.Key] = config };
        return current;
    }

    private static V1OwnerReference Owner(V1ServiceAccount account) => new()
    {
        ApiVersion = "v1",
        Kind = "ServiceAccount",
        Name = account.Metadata.Name,
        Uid = account.Metadata.Uid,
    };

    private static string Format(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);

    private static DateTimeOffset? Time(string? text) =>
        DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var time) ? time : null;
}
