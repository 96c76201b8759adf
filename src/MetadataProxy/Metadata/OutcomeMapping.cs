using MetadataProxy.Identity;
using MetadataProxy.Tokens;

namespace MetadataProxy.Metadata;

/// <summary>The one place where identity and token outcomes become metadata failures.</summary>
internal static class OutcomeMapping
{
    /// <summary>How long a caller should wait before asking again about an address no pod owns yet.</summary>
    private static readonly TimeSpan RetryUnknownCaller = TimeSpan.FromSeconds(1);

    public static MetadataResult.Failure ToFailure(CallerOutcome.Refused refused) => refused.Reason switch
    {
        CallerRefusal.Unknown => new(FailureReason.CallerUnknown, refused.Message, RetryUnknownCaller),
        CallerRefusal.Ambiguous => new(FailureReason.CallerAmbiguous, refused.Message, RetryUnknownCaller),
        CallerRefusal.HostNetwork => new(FailureReason.HostNetworkDenied, refused.Message),
        CallerRefusal.InvalidAnnotation => new(FailureReason.InvalidAnnotation, refused.Message),
        CallerRefusal.ServiceAccountMissing => new(FailureReason.ServiceAccountMissing, refused.Message),
        CallerRefusal.ServiceAccountUnavailable => new(FailureReason.ServiceAccountUnavailable, refused.Message, RetryUnknownCaller),
        _ => throw new ArgumentOutOfRangeException(nameof(refused), refused.Reason, "Unknown caller refusal."),
    };

    public static MetadataResult.Failure ToFailure(TokenOutcome outcome) => outcome switch
    {
        TokenOutcome.Refused { Reason: TokenRefusal.NoGoogleServiceAccount } r => new(FailureReason.NoGoogleServiceAccount, r.Message),
        TokenOutcome.Refused { Reason: TokenRefusal.UpstreamRejected } r => new(FailureReason.UpstreamRejected, r.Message),
        TokenOutcome.Refused { Reason: TokenRefusal.UpstreamUnavailable } r => new(FailureReason.UpstreamUnavailable, r.Message, TimeSpan.FromSeconds(1)),
        TokenOutcome.Refused { Reason: TokenRefusal.Throttled } r => new(FailureReason.TooManyRequests, r.Message, r.RetryAfter ?? TimeSpan.FromSeconds(1)),
        TokenOutcome.Refused { Reason: TokenRefusal.NotConfigured } r => new(FailureReason.CredentialsNotConfigured, r.Message),
        _ => throw new ArgumentOutOfRangeException(nameof(outcome), outcome, "Not a refusal."),
    };
}
