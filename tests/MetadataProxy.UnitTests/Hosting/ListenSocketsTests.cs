using System.Net.Sockets;
using MetadataProxy.Hosting;
using Microsoft.Extensions.Time.Testing;

namespace MetadataProxy.UnitTests.Hosting;

/// <summary>Issue 10, point 4: listeners the next release can bind beside, and close before their connections.</summary>
public sealed class ListenSocketsTests
{
    [Fact]
    public async Task Create_SecondServerOnTheSamePort_BindsBesideTheFirstAndTakesOverWhenItCloses()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux(), "SO_REUSEPORT as Linux has it");
        var old = TestListenSockets.Create();
        var next = TestListenSockets.Create();
        using var first = old.Create(new IPEndPoint(IPAddress.Loopback, 0));
        first.Listen();
        var endpoint = (IPEndPoint)first.LocalEndPoint!;
        using var second = next.Create(endpoint);
        second.Listen();

        Assert.Equal(1, old.CloseAll());
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await client.ConnectAsync(endpoint, TestContext.Current.CancellationToken);
        using var accepted = await second.AcceptAsync(TestContext.Current.CancellationToken);

        Assert.Equal(client.LocalEndPoint, accepted.RemoteEndPoint);
    }

    [Fact]
    public async Task CloseAll_OnlyServer_NewConnectionsAreRefused()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux(), "SO_REUSEPORT as Linux has it");
        var sockets = TestListenSockets.Create();
        var listener = sockets.Create(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen();
        var endpoint = (IPEndPoint)listener.LocalEndPoint!;

        Assert.Equal(1, sockets.CloseAll());
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        var refused = await Assert.ThrowsAsync<SocketException>(async () => await client.ConnectAsync(endpoint, TestContext.Current.CancellationToken));

        Assert.Equal(SocketError.ConnectionRefused, refused.SocketErrorCode);
        Assert.Equal(0, sockets.CloseAll());
    }

    [Fact]
    public void Create_OtherUsersSocketWithoutReusePort_StillConflicts()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux(), "SO_REUSEPORT as Linux has it");
        // A socket without SO_REUSEPORT (any other program) keeps the port to itself: the group is opt-in on both sides.
        using var plain = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        plain.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        plain.Listen();

        var endpoint = (IPEndPoint)plain.LocalEndPoint!;
        var conflict = Assert.Throws<IOException>(() => TestListenSockets.Create().Create(endpoint));

        Assert.Equal(SocketError.AddressAlreadyInUse, Assert.IsType<SocketException>(conflict.InnerException).SocketErrorCode);
        // Said as Kestrel says it for its own listeners, with the address, so the operator's line names the port.
        Assert.Equal($"Failed to bind to address {endpoint}: address already in use", conflict.Message);
        Assert.Equal($"listen: Failed to bind to address {endpoint}: address already in use. Another process holds it: stop that process, or set Listen:Metadata / Listen:Admin to a free address.",
            ListenFailure.Describe(conflict));
    }

    [Fact]
    public async Task Create_MetadataEndpointBeforeThePreconditionHolds_BindsOnlyOnceItHolds()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux(), "SO_REUSEPORT as Linux has it");
        // Port 0, as Kestrel hands over a configured port 0: a port chosen beforehand could be taken by a parallel test.
        var synced = false;
        var time = new FakeTimeProvider();
        var sockets = TestListenSockets.Create("http://127.0.0.1:0", [new ServingPrecondition("the test's condition", () => synced)], time: time);

        var binding = Task.Run(() => sockets.Create(new IPEndPoint(IPAddress.Loopback, 0)), TestContext.Current.CancellationToken);
        for (var i = 0; i < 5; i++)
            time.Advance(TimeSpan.FromMilliseconds(50));
        var early = binding.IsCompleted;
        synced = true;
        using var socket = await AdvanceUntilAsync(binding, time);

        Assert.False(early, "the metadata socket must not be bound while the precondition does not hold");
        Assert.True(socket.IsBound);
        Assert.NotEqual(0, ((IPEndPoint)socket.LocalEndPoint!).Port);
    }

    [Fact]
    public async Task Create_PreconditionSignalsWhenMet_BindsWithoutWaitingForThePoll()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux(), "SO_REUSEPORT as Linux has it");
        var synced = false;
        var asked = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var met = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        // The fake clock never moves: once the first check has found the precondition unmet, only the signal can end the wait.
        var sockets = TestListenSockets.Create("http://127.0.0.1:0",
            [new ServingPrecondition("the test's condition", () => { asked.TrySetResult(); return synced; }, () => met.Task)], time: new FakeTimeProvider());

        var binding = Task.Run(() => sockets.Create(new IPEndPoint(IPAddress.Loopback, 0)), TestContext.Current.CancellationToken);
        await asked.Task.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
        synced = true;
        met.SetResult();
        using var socket = await binding.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);

        Assert.True(socket.IsBound);
        Assert.NotEqual(0, ((IPEndPoint)socket.LocalEndPoint!).Port);
    }

    [Fact]
    public void Create_OtherEndpointWhileThePreconditionDoesNotHold_BindsAtOnce()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux(), "SO_REUSEPORT as Linux has it");
        // The admin port answers probes while the metadata listeners wait.
        var sockets = TestListenSockets.Create("http://127.0.0.1:1", [new ServingPrecondition("never", () => false)]);

        using var admin = sockets.Create(new IPEndPoint(IPAddress.Loopback, 0));

        Assert.NotEqual(0, ((IPEndPoint)admin.LocalEndPoint!).Port);
    }

    [Fact]
    public async Task Create_StoppingWhileWaitingForThePrecondition_GivesUp()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux(), "SO_REUSEPORT as Linux has it");
        var lifetime = TestListenSockets.NewLifetime();
        var sockets = TestListenSockets.Create("http://127.0.0.1:0", [new ServingPrecondition("never", () => false)], lifetime);

        var binding = Task.Run(() => sockets.Create(new IPEndPoint(IPAddress.Loopback, 0)), TestContext.Current.CancellationToken);
        lifetime.StopApplication();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => binding.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken));
    }

    // The wait polls on the fake clock: move it until the bind has happened (each step lets the waiting thread run).
    private static async Task<Socket> AdvanceUntilAsync(Task<Socket> binding, FakeTimeProvider time)
    {
        for (var i = 0; i < 1000 && !binding.IsCompleted; i++)
        {
            time.Advance(TimeSpan.FromMilliseconds(50));
            await Task.WhenAny(binding, Task.Delay(TimeSpan.FromMilliseconds(5), TestContext.Current.CancellationToken));
        }

        return await binding;
    }
}
