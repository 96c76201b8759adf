using MetadataProxy.Pods;
using Microsoft.Extensions.Time.Testing;

namespace MetadataProxy.UnitTests.Pods;

public sealed class WatchSilenceTests
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(2);

    [Fact]
    public void Token_NothingHeardForTheLimit_IsCancelled()
    {
        var time = new FakeTimeProvider();
        using var silence = new WatchSilence(Limit, time);
        time.Advance(Limit - TimeSpan.FromMilliseconds(1));
        Assert.False(silence.IsSilent);
        time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.True(silence.IsSilent);
        Assert.True(silence.Token.IsCancellationRequested);
    }

    [Fact]
    public void Heard_RestartsTheMeasure()
    {
        var time = new FakeTimeProvider();
        using var silence = new WatchSilence(Limit, time);
        for (var i = 0; i < 10; i++)
        {
            time.Advance(TimeSpan.FromSeconds(1.5));
            silence.Heard();
        }

        Assert.False(silence.IsSilent);
        time.Advance(Limit);
        Assert.True(silence.IsSilent);
    }

    [Fact]
    public void Heard_AfterSilence_DoesNotRevive()
    {
        var time = new FakeTimeProvider();
        using var silence = new WatchSilence(Limit, time);
        time.Advance(Limit);
        silence.Heard();
        Assert.True(silence.IsSilent);
    }
}
