using System.Net;

namespace MetadataProxy.Tokens;

/// <summary>IAM Credentials answered with an error status; <see cref="UpstreamCall"/> turns it into a refusal.</summary>
internal sealed class IamCredentialsException(HttpStatusCode status, string message) : Exception(message)
{
    public HttpStatusCode Status { get; } = status;
}
