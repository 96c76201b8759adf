using System.Collections.Concurrent;
using System.Text.Json.Nodes;

namespace MetadataProxy.TestServers.Google;

/// <summary><c>POST /v1/token</c>: counts, records, applies faults, then hands the form to <see cref="StsExchange"/>.</summary>
internal sealed class StsEndpoint(
    StsExchange exchange,
    FaultInjection faults,
    CallCounter calls,
    ConcurrentQueue<StsRequestRecord> records,
    GoogleTestSettings settings,
    CancellationToken stopping)
{
    public async Task HandleAsync(HttpContext context)
    {
        calls.Increment();
        var ct = context.RequestAborted;
        var request = context.Request;
        var form = request.HasFormContentType
            ? (await request.ReadFormAsync(ct)).ToDictionary(f => f.Key, f => f.Value.ToString(), StringComparer.Ordinal)
            : [];
        var record = new StsRequestRecord { ReceivedAt = settings.Time.GetUtcNow(), Form = form, Headers = HeaderSnapshot.Of(request) };

        if (!await faults.PassAsync(context, (status, fault) => records.Enqueue(fault is null
                ? record with { Status = status }
                : record with { Status = status, ErrorDescription = fault, Diagnostic = "injected fault" }), stopping))
            return;

        var outcome = request.HasFormContentType
            ? await exchange.ExchangeAsync(form, ct)
            : new StsOutcome(null, null, StsRejection.InvalidRequest("The request body must be application/x-www-form-urlencoded."), null, null);
        record = record with { Subject = outcome.Subject, UserProject = outcome.UserProject };

        if (outcome.Rejection is { } rejection)
        {
            records.Enqueue(record with
            {
                Status = StatusCodes.Status400BadRequest,
                Error = rejection.Error,
                ErrorDescription = rejection.Description,
                Diagnostic = rejection.Diagnostic,
            });
            await JsonResponse.WriteAsync(context.Response, StatusCodes.Status400BadRequest, GoogleErrorBodies.OAuth(rejection.Error, rejection.Description), ct);
            return;
        }

        records.Enqueue(record with { Status = StatusCodes.Status200OK, IssuedAccessToken = outcome.AccessToken });
        var body = new JsonObject
        {
            ["access_token"] = outcome.AccessToken,
            ["issued_token_type"] = StsExchange.AccessTokenType,
            ["token_type"] = "Bearer",
            ["expires_in"] = (int)(outcome.Token!.ExpiresAt - outcome.Token.IssuedAt).TotalSeconds,
        };
        await JsonResponse.WriteAsync(context.Response, StatusCodes.Status200OK, body.ToJsonString(GoogleJson.Options), ct);
    }
}
