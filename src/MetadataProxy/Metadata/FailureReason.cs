namespace MetadataProxy.Metadata;

/// <summary>Every expected way a request fails; the status code and the metric label follow from it.</summary>
internal enum FailureReason
{
    BadRequest,
    TooManyRequests,
    NotFound,
    MethodNotAllowed,
    MissingMetadataFlavor,
    Forwarded,
    LegacyEndpoint,
    Concealed,
    CallerUnknown,
    CallerAmbiguous,
    HostNetworkDenied,
    InvalidAnnotation,
    ServiceAccountMissing,
    ServiceAccountUnavailable,
    NoGoogleServiceAccount,
    UpstreamRejected,
    UpstreamUnavailable,
    CredentialsNotConfigured,

    /// <summary>Kubernetes did not vouch for a service-account token handed to the server (registry credentials, KEP-4412).</summary>
    SubjectTokenRejected,
}
