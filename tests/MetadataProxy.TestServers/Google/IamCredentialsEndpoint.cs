using System.Collections.Concurrent;

namespace MetadataProxy.TestServers.Google;

/// <summary>
/// <c>POST /v1/projects/{project}/serviceAccounts/{email}:{verb}</c>: counts, records, applies faults, then hands
/// the call to <see cref="IamCredentialsService"/>.
/// </summary>
internal sealed class IamCredentialsEndpoint(
    IamCredentialsService service,
    FaultInjection faults,
    CallCounter accessTokenCalls,
    CallCounter idTokenCalls,
    ConcurrentQueue<IamRequestRecord> records,
    GoogleTestSettings settings,
    CancellationToken stopping)
{
    public const string Route = "/v1/projects/{project}/serviceAccounts/{resource}";

    public async Task HandleAsync(HttpContext context)
    {
        var resource = (string)context.Request.RouteValues["resource"]!;
        var colon = resource.LastIndexOf(':');
        var email = colon < 0 ? resource : resource[..colon];
        var method = (colon < 0 ? string.Empty : resource[(colon + 1)..]) switch
        {
            "generateAccessToken" => IamMethod.GenerateAccessToken,
            "generateIdToken" => IamMethod.GenerateIdToken,
            _ => IamMethod.Other,
        };
        (method switch
        {
            IamMethod.GenerateAccessToken => accessTokenCalls,
            IamMethod.GenerateIdToken => idTokenCalls,
            _ => null,
        })?.Increment();

        var ct = context.RequestAborted;
        using var reader = new StreamReader(context.Request.Body);
        var body = await reader.ReadToEndAsync(ct);
        var headers = HeaderSnapshot.Of(context.Request);
        var record = new IamRequestRecord
        {
            ReceivedAt = settings.Time.GetUtcNow(),
            Method = method,
            ServiceAccountEmail = email,
            Body = body,
            Headers = headers,
        };

        if (!await faults.PassAsync(context, (status, fault) => records.Enqueue(fault is null
                ? record with { Status = status, AnsweredAt = settings.Time.GetUtcNow() }
                : record with { Status = status, AnsweredAt = settings.Time.GetUtcNow(), ErrorMessage = fault, Diagnostic = "injected fault" }), stopping))
            return;

        headers.TryGetValue("authorization", out var authorization);
        headers.TryGetValue("x-goog-user-project", out var userProject);
        var outcome = service.Handle(method, email, authorization, userProject, body);
        records.Enqueue(record with
        {
            Delegates = outcome.Request?.Delegates ?? [],
            Scopes = outcome.Request?.Scopes ?? [],
            Lifetime = outcome.Request?.Lifetime,
            Audience = outcome.Request?.Audience,
            IncludeEmail = outcome.Request?.IncludeEmail,
            BearerPrincipal = outcome.BearerPrincipal,
            Status = outcome.Status,
            ErrorMessage = outcome.ErrorMessage,
            Diagnostic = outcome.Diagnostic,
            AnsweredAt = settings.Time.GetUtcNow(),
        });
        await JsonResponse.WriteAsync(context.Response, outcome.Status, outcome.Body, ct);
    }
}
