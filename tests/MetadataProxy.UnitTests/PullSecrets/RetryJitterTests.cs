using MetadataProxy.PullSecrets;

namespace MetadataProxy.UnitTests.PullSecrets;

public sealed class RetryJitterTests
{
    [Theory]
    [InlineData(1, 0.0, 2.5)]
    [InlineData(1, 1.0, 5)]
    [InlineData(3, 0.5, 15)]
    [InlineData(10, 1.0, 120)]
    [InlineData(10, 0.0, 60)]
    public void Delay_DoublesWithJitterInTheUpperHalf_UpToTheMaximum(int failures, double random, double seconds)
    {
        var jitter = new RetryJitter(() => random);

        Assert.Equal(TimeSpan.FromSeconds(seconds), jitter.Delay(failures, TimeSpan.FromSeconds(5), TimeSpan.FromMinutes(2)));
    }
}
