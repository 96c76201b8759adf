using k8s.Autorest;
using MetadataProxy.Kubernetes;

namespace MetadataProxy.UnitTests.Kubernetes;

public sealed class RetryAfterTests
{
    [Theory]
    [InlineData(429, "7", null, 7.0)]
    [InlineData(503, "3", null, 3.0)]
    [InlineData(429, null, """{"kind":"Status","code":429,"details":{"retryAfterSeconds":4}}""", 4.0)]
    [InlineData(429, "86400", null, 60.0)]
    [InlineData(429, null, "not json", null)]
    [InlineData(500, "7", null, null)]
    public void Of_ThrottlingAnswer_IsTheWaitAsked(int status, string? header, string? body, double? expectedSeconds)
    {
        using var response = new HttpResponseMessage((HttpStatusCode)status);
        if (header is not null)
            response.Headers.TryAddWithoutValidation("Retry-After", header);
        var exception = new HttpOperationException("throttled") { Response = new HttpResponseMessageWrapper(response, body ?? "") };

        Assert.Equal(expectedSeconds is { } s ? TimeSpan.FromSeconds(s) : null, RetryAfter.Of(exception));
    }

    [Fact]
    public void Of_ConnectionFailure_IsNothing() => Assert.Null(RetryAfter.Of(new HttpRequestException("reset")));
}
