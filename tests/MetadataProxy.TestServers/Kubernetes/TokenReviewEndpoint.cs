using System.Text.Json;
using k8s;
using k8s.Models;

namespace MetadataProxy.TestServers.Kubernetes;

/// <summary><c>POST /apis/authentication.k8s.io/v1/tokenreviews</c>: 201 with the review and its status, or a Status.</summary>
internal static class TokenReviewEndpoint
{
    public static void MapTokenReview(this IEndpointRouteBuilder app) =>
        app.MapPost("/apis/authentication.k8s.io/v1/tokenreviews", HandleAsync);

    private static async Task<IResult> HandleAsync(HttpContext context, TokenReviewer reviewer, ServerCounters counters, ServerSettings settings)
    {
        if (settings.DenyTokenReviews)
            return KubeResults.Status(KubeStatus.Failure(403, "Forbidden",
                "tokenreviews.authentication.k8s.io is forbidden: User \"system:serviceaccount:metadata-proxy:metadata-proxy\" cannot create resource \"tokenreviews\" in API group \"authentication.k8s.io\" at the cluster scope"));

        V1TokenReview? review;
        try
        {
            using var reader = new StreamReader(context.Request.Body);
            review = KubernetesJson.Deserialize<V1TokenReview>(await reader.ReadToEndAsync(context.RequestAborted));
        }
        catch (JsonException e)
        {
            return KubeResults.Status(KubeStatus.BadRequest($"the body of the request was in an unknown format: {e.Message}"));
        }

        counters.TokenReview();
        if (review?.Spec?.Token is not { Length: > 0 } token)
            return KubeResults.Status(KubeStatus.BadRequest("spec.token is required"));

        review.Status = reviewer.Review(token, review.Spec.Audiences);
        return KubeResults.Object(review, StatusCodes.Status201Created);
    }
}
