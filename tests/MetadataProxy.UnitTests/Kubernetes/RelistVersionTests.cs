using k8s.Autorest;
using MetadataProxy.Kubernetes;

namespace MetadataProxy.UnitTests.Kubernetes;

public sealed class RelistVersionTests
{
    [Theory]
    [InlineData(null, false, "0")] // the first list: any state, from the watch cache
    [InlineData("42", false, "42")] // later: not older than what was synced
    [InlineData("42", true, null)] // that version refused: the most recent state
    [InlineData(null, true, null)]
    public void Of_ChoosesAsClientGoRelistResourceVersion(string? lastSynced, bool unavailable, string? expected) =>
        Assert.Equal(expected, RelistVersion.Of(lastSynced, unavailable));

    [Theory]
    [InlineData(410, """{"kind":"Status","reason":"Expired","code":410}""", true)]
    [InlineData(504, """{"kind":"Status","reason":"Timeout","message":"Too large resource version: 9, current: 7","details":{"causes":[{"reason":"ResourceVersionTooLarge"}]},"code":504}""", true)]
    [InlineData(504, """{"kind":"Status","reason":"Timeout","message":"Too large resource version: 9, current: 7","code":504}""", true)]
    [InlineData(504, """{"kind":"Status","reason":"Timeout","message":"the server was unable to return a response in the time allotted","code":504}""", false)]
    [InlineData(500, """{"kind":"Status","reason":"InternalError","message":"Too large resource version","code":500}""", false)]
    [InlineData(429, """{"kind":"Status","reason":"TooManyRequests","code":429}""", false)]
    public void MakesUnavailable_OnlyExpiredOrTooLargeResourceVersion(int status, string body, bool expected)
    {
        using var response = new HttpResponseMessage((HttpStatusCode)status);
        var error = new HttpOperationException("answered") { Response = new HttpResponseMessageWrapper(response, body) };

        Assert.Equal(expected, RelistVersion.MakesUnavailable(error));
    }

    [Fact]
    public void MakesUnavailable_AConnectionFailure_IsNot() =>
        Assert.False(RelistVersion.MakesUnavailable(new HttpRequestException("connection refused")));
}
