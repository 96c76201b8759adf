using k8s;
using k8s.Autorest;
using k8s.Models;
using MetadataProxy.Kubernetes;

namespace MetadataProxy.UnitTests.Kubernetes;

public sealed class ExpiredWatchTests
{
    [Theory]
    [InlineData(410, "Expired", true)]
    [InlineData(410, "Gone", true)]
    [InlineData(410, null, true)]
    [InlineData(null, "Expired", true)]
    [InlineData(null, "Gone", true)]
    [InlineData(500, "InternalError", false)]
    [InlineData(429, "TooManyRequests", false)]
    public void Is_ErrorEventStatus_IsExpiredOn410OrItsReasons(int? code, string? reason, bool expected) =>
        Assert.Equal(expected, ExpiredWatch.Is(new KubernetesException(new V1Status { Code = code, Reason = reason })));

    [Theory]
    [InlineData(410, true)]
    [InlineData(404, false)]
    [InlineData(429, false)]
    [InlineData(500, false)]
    public void Is_WatchRequestAnswered_IsExpiredOn410(int status, bool expected)
    {
        using var response = new HttpResponseMessage((HttpStatusCode)status);
        var error = new HttpOperationException("answered") { Response = new HttpResponseMessageWrapper(response, """{"kind":"Status","reason":"Expired","code":410}""") };

        Assert.Equal(expected, ExpiredWatch.Is(error));
    }

    [Fact]
    public void Is_A410WrappedAsOnErrorWrapsIt_IsExpired()
    {
        using var response = new HttpResponseMessage(HttpStatusCode.Gone);
        var answered = new HttpOperationException("answered") { Response = new HttpResponseMessageWrapper(response, "") };

        Assert.True(ExpiredWatch.Is(new KubernetesException(answered.Message, answered)));
    }

    [Fact]
    public void Is_BrokenConnectionOrNothing_IsNotExpired()
    {
        Assert.False(ExpiredWatch.Is(new HttpRequestException("reset", new IOException("Connection reset by peer"))));
        Assert.False(ExpiredWatch.Is(new IOException("Connection reset by peer")));
        Assert.False(ExpiredWatch.Is(null));
    }
}
