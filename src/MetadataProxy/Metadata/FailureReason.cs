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
}
