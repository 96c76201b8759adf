using MetadataProxy.Tokens;

namespace MetadataProxy.UnitTests.Tokens;

public sealed class UpstreamGateTests
{
    [Fact]
    public async Task TryEnterAsync_AccountAtItsShare_IsRefusedAtOnceWhileOthersStillEnter()
    {
        var gate = new UpstreamGate(slots: 4, perAccount: 2);
        using var first = await gate.TryEnterAsync("flood", CancellationToken.None)!;
        var second = gate.TryEnterAsync("flood", CancellationToken.None);
        Assert.NotNull(second);

        Assert.Null(gate.TryEnterAsync("flood", CancellationToken.None));
        using var other = await gate.TryEnterAsync("victim", CancellationToken.None)!;
        (await second).Dispose();
        Assert.NotNull(gate.TryEnterAsync("flood", CancellationToken.None)); // a finished fetch gives its share back
    }

    [Fact]
    public async Task Release_QueuedAccounts_TakeTurnsInsteadOfFirstComeFirstServed()
    {
        var gate = new UpstreamGate(slots: 1, perAccount: 10);
        var holder = await gate.TryEnterAsync("flood", CancellationToken.None)!;
        var order = new List<string>();
        var queued = new List<Task>();
        foreach (var account in new[] { "flood", "flood", "flood", "victim" })
            queued.Add(RecordTurnAsync(gate.TryEnterAsync(account, CancellationToken.None)!, account, order));
        Assert.Equal(4, gate.Queued);

        holder.Dispose();
        await Task.WhenAll(queued);

        // The victim asked last, behind three of the flood's fetches, and was served second.
        Assert.Equal(["flood", "victim", "flood", "flood"], order);
    }

    [Fact]
    public async Task TryEnterAsync_CallerLeavesWhileQueued_NeverStartsAndGivesBackItsShare()
    {
        var gate = new UpstreamGate(slots: 1, perAccount: 1);
        var holder = await gate.TryEnterAsync("busy", CancellationToken.None)!;
        using var caller = new CancellationTokenSource();
        var queued = gate.TryEnterAsync("leaver", caller.Token)!;
        Assert.Null(gate.TryEnterAsync("leaver", CancellationToken.None));

        await caller.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => queued);
        Assert.Equal(0, gate.Queued);
        var again = gate.TryEnterAsync("leaver", CancellationToken.None);
        Assert.NotNull(again);
        holder.Dispose();
        (await again).Dispose(); // the freed slot went to the waiting fetch, not to the one that left
    }

    [Fact]
    public async Task TryEnterAsync_TokenAlreadyCancelled_IsCancelledWithoutTakingASlot()
    {
        var gate = new UpstreamGate(slots: 1, perAccount: 1);
        using var holder = await gate.TryEnterAsync("busy", CancellationToken.None)!;
        var entering = gate.TryEnterAsync("gone", new CancellationToken(canceled: true))!;
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => entering);
        Assert.Equal(0, gate.Queued);
    }

    private static async Task RecordTurnAsync(Task<IDisposable> entering, string account, List<string> order)
    {
        using var slot = await entering;
        lock (order)
            order.Add(account);
    }
}
