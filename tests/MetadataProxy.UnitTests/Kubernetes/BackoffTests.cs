using MetadataProxy.Kubernetes;

namespace MetadataProxy.UnitTests.Kubernetes;

public sealed class BackoffTests
{
    [Fact]
    public void Next_DoublesUpToTheMaximumWithinJitterBounds()
    {
        var low = new Backoff(TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(1), () => 0.0);
        var high = new Backoff(TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(1), () => 1.0);
        Assert.Equal([50, 100, 200, 400, 500, 500], Enumerable.Range(0, 6).Select(_ => low.Next().TotalMilliseconds));
        Assert.Equal([100, 200, 400, 800, 1000, 1000], Enumerable.Range(0, 6).Select(_ => high.Next().TotalMilliseconds));
    }

    [Fact]
    public void Reset_StartsOverAfterSuccess()
    {
        var backoff = new Backoff(TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(1), () => 1.0);
        backoff.Next();
        backoff.Next();
        backoff.Reset();
        Assert.Equal(100, backoff.Next().TotalMilliseconds);
    }

    [Theory]
    [InlineData(1, 0.0, 2.5)]
    [InlineData(1, 1.0, 5)]
    [InlineData(3, 0.5, 15)]
    [InlineData(10, 1.0, 120)]
    [InlineData(10, 0.0, 60)]
    public void Delay_DoublesPerFailureWithJitterInTheUpperHalf_UpToTheMaximum(int failures, double random, double seconds)
    {
        Assert.Equal(TimeSpan.FromSeconds(seconds), Backoff.Delay(failures, TimeSpan.FromSeconds(5), TimeSpan.FromMinutes(2), random));
    }
}
