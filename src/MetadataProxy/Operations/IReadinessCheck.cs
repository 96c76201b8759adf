namespace MetadataProxy.Operations;

/// <summary>One condition for <c>/readyz</c>; null when ready, else the reason it is not.</summary>
internal interface IReadinessCheck
{
    string? NotReadyReason();
}
