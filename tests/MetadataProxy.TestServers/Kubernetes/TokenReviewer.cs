using System.Text.Json.Nodes;
using k8s.Models;
using MetadataProxy.TestServers.Jwt;

namespace MetadataProxy.TestServers.Kubernetes;

/// <summary>
/// The service-account token authenticator behind <c>TokenReview</c>, as pkg/serviceaccount checks a bound token: the
/// signature, the audiences against the review's (the API server's own when none), the expiry, then that the
/// ServiceAccount and the pod or node it is bound to still exist with the UIDs in the token.
/// </summary>
internal sealed class TokenReviewer(ClusterStore store, ServerSettings settings, JwtSigner signer)
{
    private const string Prefix = "authentication.kubernetes.io/";

    public V1TokenReviewStatus Review(string token, IList<string>? reviewAudiences)
    {
        var audiences = reviewAudiences is { Count: > 0 } given ? given.ToList() : [settings.Issuer];
        if (!JwtVerifier.TryVerify(token, (JsonObject)JsonNode.Parse(signer.JwksJson())!, out var claims, out var error) || claims is null)
            return Unauthenticated($"invalid bearer token, {error}");
        if ((string?)claims["iss"] != settings.Issuer)
            return Unauthenticated("invalid bearer token, token issuer is not trusted");

        var tokenAudiences = claims["aud"] is JsonArray array ? array.Select(a => (string?)a).OfType<string>().ToList() : [(string?)claims["aud"] ?? ""];
        var matched = audiences.Intersect(tokenAudiences, StringComparer.Ordinal).ToList();
        if (matched.Count == 0)
            return Unauthenticated($"invalid bearer token, token audiences [{Quoted(tokenAudiences)}] is invalid for the target audiences [{Quoted(audiences)}]");

        var now = settings.Time.GetUtcNow().ToUnixTimeSeconds();
        if ((long?)claims["exp"] is not { } exp || exp <= now)
            return Unauthenticated("invalid bearer token, service account token has expired");

        if (claims["kubernetes.io"] is not JsonObject kubernetes || (string?)kubernetes["namespace"] is not { } ns
            || kubernetes["serviceaccount"] is not JsonObject saClaim || (string?)saClaim["name"] is not { } saName)
            return Unauthenticated("invalid bearer token, token lacks the kubernetes.io claims");

        if (store.GetServiceAccount(ns, saName) is not { } sa)
            return Unauthenticated("invalid bearer token, service account token has been invalidated");
        if ((string?)saClaim["uid"] is { } saUid && saUid != sa.Metadata.Uid)
            return Unauthenticated($"invalid bearer token, service account UID ({sa.Metadata.Uid}) does not match claim ({saUid})");

        var extra = new Dictionary<string, IList<string>>();
        if (kubernetes["pod"] is JsonObject podClaim)
        {
            var podName = (string?)podClaim["name"] ?? "";
            if (store.GetPod(ns, podName) is not { } pod)
                return Unauthenticated("invalid bearer token, service account token has been invalidated");
            if ((string?)podClaim["uid"] is { } podUid && podUid != pod.Metadata.Uid)
                return Unauthenticated($"invalid bearer token, pod UID ({pod.Metadata.Uid}) does not match claim ({podUid})");
            extra[Prefix + "pod-name"] = [podName];
            extra[Prefix + "pod-uid"] = [pod.Metadata.Uid];
        }

        if (kubernetes["node"] is JsonObject nodeClaim && (string?)nodeClaim["name"] is { } nodeName)
        {
            extra[Prefix + "node-name"] = [nodeName];
            if ((string?)nodeClaim["uid"] is { } nodeUid)
                extra[Prefix + "node-uid"] = [nodeUid];
        }

        if ((string?)claims["jti"] is { } jti)
            extra[Prefix + "credential-id"] = ["JTI=" + jti];

        return new V1TokenReviewStatus
        {
            Authenticated = true,
            Audiences = matched,
            User = new V1UserInfo
            {
                Username = $"system:serviceaccount:{ns}:{saName}",
                Uid = sa.Metadata.Uid,
                Groups = ["system:serviceaccounts", $"system:serviceaccounts:{ns}", "system:authenticated"],
                Extra = extra,
            },
        };
    }

    private static V1TokenReviewStatus Unauthenticated(string error) => new() { Authenticated = false, Error = $"[{error}]", User = new V1UserInfo() };

    private static string Quoted(IEnumerable<string> values) => string.Join(" ", values.Select(v => $"\"{v}\""));
}
