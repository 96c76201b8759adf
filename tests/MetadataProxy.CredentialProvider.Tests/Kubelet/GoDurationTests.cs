using MetadataProxy.CredentialProvider.Kubelet;

namespace MetadataProxy.CredentialProvider.Tests.Kubelet;

public sealed class GoDurationTests
{
    [Theory]
    [InlineData(0, "0s")]
    [InlineData(-5, "0s")]
    [InlineData(1, "1s")]
    [InlineData(59, "59s")]
    [InlineData(60, "1m0s")]
    [InlineData(61, "1m1s")]
    [InlineData(3299, "54m59s")]
    [InlineData(3600, "1h0m0s")]
    [InlineData(3661, "1h1m1s")]
    [InlineData(43200, "12h0m0s")]
    [InlineData(90061, "25h1m1s")]
    public void Format_Seconds_IsGoDurationString(long seconds, string expected) =>
        Assert.Equal(expected, GoDuration.Format(seconds));

    [Theory]
    [InlineData(3599, "54m59s")]
    [InlineData(3600, "55m0s")]
    [InlineData(301, "1s")]
    [InlineData(300, "0s")]
    [InlineData(100, "0s")]
    [InlineData(0, "0s")]
    public void For_ExpiresIn_KeepsFiveMinutesAndNeverGoesPastExpiry(long expiresIn, string expected) =>
        Assert.Equal(expected, CacheDuration.For(expiresIn));
}
