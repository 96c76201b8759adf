using MetadataProxy.Kubernetes;
using Microsoft.Extensions.Time.Testing;

namespace MetadataProxy.UnitTests.Kubernetes;

public sealed class WatchAttemptTests
{
    private static readonly TimeSpan Tick = TimeSpan.FromMilliseconds(1);

    [Fact]
    public void EndedEarly_NothingHeardUnderASecond_IsTrue()
    {
        var time = new FakeTimeProvider();
        var attempt = new WatchAttempt(time);
        time.Advance(WatchAttempt.ShortestNormal - Tick);

        Assert.True(attempt.EndedEarly);
    }

    [Fact]
    public void EndedEarly_NothingHeardForASecond_IsANormalEnd()
    {
        var time = new FakeTimeProvider();
        var attempt = new WatchAttempt(time);
        time.Advance(WatchAttempt.ShortestNormal);

        Assert.False(attempt.EndedEarly);
    }

    [Fact]
    public void EndedEarly_SomethingHeard_IsANormalEndHoweverShort()
    {
        var time = new FakeTimeProvider();
        var attempt = new WatchAttempt(time);
        attempt.Heard();

        Assert.False(attempt.EndedEarly);
        Assert.Equal(TimeSpan.Zero, attempt.Lasted);
    }

    [Fact]
    public void IsEmptyEnd_TheClientsEndOfStreamBeforeAFirstLine_IsTrue()
    {
        Assert.True(WatchAttempt.IsEmptyEnd(new HttpRequestException("Error while copying content to a stream.", new EndOfStreamException())));
        Assert.True(WatchAttempt.IsEmptyEnd(new EndOfStreamException()));
    }

    [Fact]
    public void IsEmptyEnd_AResetOrAnHttpFailure_IsFalse()
    {
        Assert.False(WatchAttempt.IsEmptyEnd(new HttpRequestException("reset", new IOException("Connection reset by peer"))));
        Assert.False(WatchAttempt.IsEmptyEnd(new IOException("Connection reset by peer")));
        Assert.False(WatchAttempt.IsEmptyEnd(new HttpRequestException("refused")));
        Assert.False(WatchAttempt.IsEmptyEnd(null));
    }
}
