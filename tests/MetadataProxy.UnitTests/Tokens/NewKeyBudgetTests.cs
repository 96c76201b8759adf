using MetadataProxy.Tokens;
using Microsoft.Extensions.Time.Testing;

namespace MetadataProxy.UnitTests.Tokens;

public sealed class NewKeyBudgetTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 1, 5, 0, 0, TimeSpan.Zero));

    [Fact]
    public void TryTake_PastTheBurst_IsRefusedWithTheTimeUntilTheNextKey()
    {
        var budget = new NewKeyBudget(burst: 3, perMinute: 30, _time);
        for (var i = 0; i < 3; i++)
            Assert.True(budget.TryTake("ns/flood", out _));

        Assert.False(budget.TryTake("ns/flood", out var retryAfter));
        Assert.Equal(TimeSpan.FromSeconds(2), retryAfter); // 30 a minute: one every 2 s
    }

    [Fact]
    public void TryTake_OneAccountSpent_OthersUnaffected()
    {
        var budget = new NewKeyBudget(burst: 1, perMinute: 1, _time);
        Assert.True(budget.TryTake("ns/flood", out _));
        Assert.False(budget.TryTake("ns/flood", out _));
        Assert.True(budget.TryTake("ns/victim", out _));
    }

    [Fact]
    public void TryTake_AfterTheRefillTime_AllowsAgainButNeverMoreThanTheBurst()
    {
        var budget = new NewKeyBudget(burst: 2, perMinute: 30, _time);
        Assert.True(budget.TryTake("a", out _));
        Assert.True(budget.TryTake("a", out _));
        Assert.False(budget.TryTake("a", out _));

        _time.Advance(TimeSpan.FromSeconds(2));
        Assert.True(budget.TryTake("a", out _));
        Assert.False(budget.TryTake("a", out _));

        _time.Advance(TimeSpan.FromHours(1));
        Assert.True(budget.TryTake("a", out _));
        Assert.True(budget.TryTake("a", out _));
        Assert.False(budget.TryTake("a", out _));
    }
}
