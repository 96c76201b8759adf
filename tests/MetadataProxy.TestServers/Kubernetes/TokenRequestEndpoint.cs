using System.Text.Json;
using k8s;
using k8s.Models;

namespace MetadataProxy.TestServers.Kubernetes;

/// <summary><c>POST /api/v1/namespaces/{ns}/serviceaccounts/{name}/token</c>: 201 with the TokenRequest, or a Status.</summary>
internal static class TokenRequestEndpoint
{
    public static void MapTokenRequest(this IEndpointRouteBuilder app) =>
        app.MapPost("/api/v1/namespaces/{ns}/serviceaccounts/{name}/token", HandleAsync);

    private static async Task<IResult> HandleAsync(HttpContext context, ServiceAccountTokenIssuer issuer, ServerCounters counters, string ns, string name)
    {
        Authenticationv1TokenRequest? request;
        try
        {
            using var reader = new StreamReader(context.Request.Body);
            request = KubernetesJson.Deserialize<Authenticationv1TokenRequest>(await reader.ReadToEndAsync(context.RequestAborted));
        }
        catch (JsonException e)
        {
            counters.TokenRequest(new TokenRequestRecord(ns, name, [], null, null, StatusCodes.Status400BadRequest, "BadRequest", null));
            return KubeResults.Status(KubeStatus.BadRequest($"the body of the request was in an unknown format: {e.Message}"));
        }

        request ??= new Authenticationv1TokenRequest();
        var outcome = issuer.Issue(ns, name, request);
        var failure = outcome.Failure;
        counters.TokenRequest(new TokenRequestRecord(
            ns,
            name,
            request.Spec?.Audiences?.ToList() ?? [],
            request.Spec?.ExpirationSeconds,
            request.Spec?.BoundObjectRef,
            failure?.Code ?? StatusCodes.Status201Created,
            failure?.Reason,
            outcome.Issued?.Status.Token));
        if (outcome.Issued is not { } issued)
        {
            return KubeResults.Status(failure!);
        }

        if (outcome.Warning is { } warning)
        {
            context.Response.Headers.Append("Warning", warning);
        }

        return KubeResults.Object(issued, StatusCodes.Status201Created);
    }
}
