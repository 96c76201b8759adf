using Google.Apis.Auth.OAuth2;
using Google.Apis.Auth.OAuth2.Responses;

namespace MetadataProxy.FunctionalTests.TestServers.Google;

/// <summary>Latency, forced statuses and "fail the next N calls", per endpoint group; counters see every call.</summary>
public class FaultInjectionTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task StsFailWith_DefaultBody_OAuthShapedErrorUntilCleared()
    {
        await using var scenario = await FederationScenario.StartAsync(Ct);
        scenario.Google.Sts.FailWith(500);

        var (failed, body) = await scenario.PostStsAsync(scenario.MintSubjectToken());
        scenario.Google.Sts.Clear();
        var (recovered, _) = await scenario.PostStsAsync(scenario.MintSubjectToken());

        Assert.Equal(500, failed);
        Assert.Equal("server_error", (string?)body["error"]);
        Assert.Equal(200, recovered);
        Assert.Equal(2, scenario.Google.StsCalls);
        Assert.Equal([500, 200], scenario.Google.StsRequests.Select(r => r.Status));
    }

    [Fact]
    public async Task IamFailWith_CustomGoogleBody_SurfacesThroughTheLibrary()
    {
        await using var scenario = await FederationScenario.StartAsync(Ct);
        const string Body = """{"error":{"code":403,"message":"IAM Service Account Credentials API has not been used in project 123456789012 before or it is disabled.","status":"PERMISSION_DENIED"}}""";
        scenario.Google.Iam.FailWith(403, Body);
        ITokenAccess credential = scenario.ImpersonatedCredential();

        var e = await Assert.ThrowsAsync<TokenResponseException>(() => credential.GetAccessTokenForRequestAsync(cancellationToken: Ct));

        Assert.Equal(Body, e.Error.Error);
        Assert.Equal(1, scenario.Google.StsCalls);
        Assert.Equal(1, scenario.Google.GenerateAccessTokenCalls);
    }

    [Fact]
    public async Task IamFailWith_DefaultBody_GoogleRpcShape()
    {
        await using var scenario = await FederationScenario.StartAsync(Ct);
        scenario.Google.Iam.FailWith(503);

        using var response = await scenario.PostIamAsync("generateIdToken", scenario.KsaBearer(), """{"audience":"a"}""");

        var error = (await FederationScenario.ReadJsonAsync(response))["error"]!;
        Assert.Equal(503, (int?)error["code"]);
        Assert.Equal("UNAVAILABLE", (string?)error["status"]);
        Assert.Equal(1, scenario.Google.GenerateIdTokenCalls);
    }

    [Fact]
    public async Task FailNextCalls_TwoCalls_FailTwiceThenRecover()
    {
        await using var scenario = await FederationScenario.StartAsync(Ct);
        scenario.Google.Sts.FailNextCalls(2, 502);

        var statuses = new List<int>();
        for (var i = 0; i < 3; i++)
        {
            statuses.Add((await scenario.PostStsAsync(scenario.MintSubjectToken())).Status);
        }

        Assert.Equal([502, 502, 200], statuses);
        Assert.Equal(3, scenario.Google.StsCalls);
    }

    [Fact]
    public async Task FailNextCalls_One503_LibraryRetriesAndSucceeds()
    {
        await using var scenario = await FederationScenario.StartAsync(Ct);
        scenario.Google.Sts.FailNextCalls(1, 503);

        var token = await scenario.ExternalAccountCredential().GetAccessTokenForRequestAsync(cancellationToken: Ct);

        // Google.Apis.Auth retries 408, 429, 500 and 503 from token endpoints itself (3 retries, exponential back-off).
        Assert.NotNull(scenario.Google.DescribeAccessToken(token));
        Assert.Equal(2, scenario.Google.StsCalls);
        Assert.Equal([503, 200], scenario.Google.StsRequests.Select(r => r.Status));
    }

    [Fact]
    public async Task Latency_Set_DelaysTheAnswer()
    {
        await using var scenario = await FederationScenario.StartAsync(Ct);
        scenario.Google.Iam.Latency = TimeSpan.FromMilliseconds(200);
        var started = TimeProvider.System.GetTimestamp();

        using var response = await scenario.PostIamAsync("generateIdToken", scenario.KsaBearer(), """{"audience":"a"}""");

        Assert.Equal(200, (int)response.StatusCode);
        Assert.True(TimeProvider.System.GetElapsedTime(started) >= TimeSpan.FromMilliseconds(200));
    }

    [Fact]
    public async Task Latency_CallerAborts_AbortHonouredAndRecordedAs499()
    {
        await using var scenario = await FederationScenario.StartAsync(Ct);
        scenario.Google.Sts.Latency = TimeSpan.FromMinutes(5);
        using var caller = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        caller.CancelAfter(TimeSpan.FromMilliseconds(100));
        using var form = new FormUrlEncodedContent([]);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => scenario.Http.PostAsync(scenario.Google.StsTokenUrl, form, caller.Token));

        var record = await EventuallyAsync(() => scenario.Google.StsRequests.SingleOrDefault());
        Assert.Equal(499, record.Status);
        Assert.Equal(1, scenario.Google.StsCalls);
    }

    [Fact]
    public async Task Latency_LibraryCallerCancels_ExchangeStillCompletesOnTheWire()
    {
        await using var scenario = await FederationScenario.StartAsync(Ct);
        scenario.Google.Sts.Latency = TimeSpan.FromMilliseconds(300);
        using var caller = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        caller.CancelAfter(TimeSpan.FromMilliseconds(50));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(
            () => scenario.ExternalAccountCredential().GetAccessTokenForRequestAsync(cancellationToken: caller.Token));

        // Google.Apis.Auth's TokenRefreshManager shares one refresh between callers: a caller's token only stops
        // its wait, the STS request carries on and its answer is kept.
        var record = await EventuallyAsync(() => scenario.Google.StsRequests.SingleOrDefault());
        Assert.Equal(200, record.Status);
    }

    [Fact]
    public async Task Clear_AfterLatencyAndFailures_AnswersNormally()
    {
        await using var scenario = await FederationScenario.StartAsync(Ct);
        scenario.Google.Sts.Latency = TimeSpan.FromMinutes(5);
        scenario.Google.Sts.FailWith(500);
        scenario.Google.Sts.FailNextCalls(3, 429);

        scenario.Google.Sts.Clear();
        var (status, body) = await scenario.PostStsAsync(scenario.MintSubjectToken());

        Assert.Equal(200, status);
        Assert.StartsWith("ya29.", (string?)body["access_token"], StringComparison.Ordinal);
    }

    /// <summary>The server learns of a client abort asynchronously; poll briefly for its record.</summary>
    private static async Task<T> EventuallyAsync<T>(Func<T?> probe)
        where T : class
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(10));
        var value = probe();
        while (value is null)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(10), timeout.Token);
            value = probe();
        }

        return value;
    }
}
