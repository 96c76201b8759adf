namespace MetadataProxy.TestServers.Google;

public enum TokenKind
{
    /// <summary>An STS token for a Workload Identity pool principal.</summary>
    Federated,

    /// <summary>A generateAccessToken token of a Google service account.</summary>
    ServiceAccount,

    /// <summary>A token issued through <see cref="GoogleTestServer.IssueAccessToken"/> for a user principal.</summary>
    User,
}
