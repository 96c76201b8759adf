namespace MetadataProxy.Identity;

/// <summary>The answer to "who is calling from this address?" — a value, never an exception.</summary>
internal abstract record CallerOutcome
{
    /// <summary>A caller with a known identity.</summary>
    public sealed record Resolved(CallerIdentity Identity) : CallerOutcome;

    /// <summary>A caller that is known to have no identity here: it sees no service accounts.</summary>
    public sealed record NoIdentity(string Reason) : CallerOutcome;

    /// <summary>A caller that must be refused; the reason decides the status.</summary>
    public sealed record Refused(CallerRefusal Reason, string Message) : CallerOutcome;
}
