namespace MetadataProxy.TestServers.Google;

/// <summary>The answer to one IAM Credentials call, plus what the record keeps about it.</summary>
internal sealed record IamOutcome(int Status, string Body, string? BearerPrincipal, IamRequestBody? Request, string? ErrorMessage, string? Diagnostic = null)
{
    public static IamOutcome Error(int status, string message, string? principal, IamRequestBody? request, string? reason = null, string? permission = null) =>
        new(status, GoogleErrorBodies.Rpc(status, message, reason, permission), principal, request, message);
}
