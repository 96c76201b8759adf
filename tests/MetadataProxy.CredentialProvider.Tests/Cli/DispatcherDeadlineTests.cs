using System.Diagnostics;
using System.Text;
using MetadataProxy.CredentialProvider.Cli;
using MetadataProxy.CredentialProvider.Tests.Infrastructure;

namespace MetadataProxy.CredentialProvider.Tests.Cli;

/// <summary>
/// The plugin's two deadlines (8 s for the network, 9 s for the whole invocation) on a fake clock: the dispatcher runs
/// in process against the stand-in node socket, so a test advances the clock to the budget instead of waiting for it.
/// The binary passes <see cref="TimeProvider.System"/>; the exec tests prove the rest of its wiring.
/// </summary>
public sealed class DispatcherDeadlineTests : IAsyncLifetime
{
    private static readonly TimeSpan OneTick = TimeSpan.FromMilliseconds(1);
    private readonly TempDirectory _directory = new();
    private readonly RecordingClock _clock = new();
    private readonly MemoryStream _output = new();
    private readonly StringWriter _error = new();
    private StandInServer _server = null!;

    public async ValueTask InitializeAsync() => _server = await StandInServer.StartAsync(_directory);

    public async ValueTask DisposeAsync()
    {
        await _server.DisposeAsync();
        _directory.Dispose();
    }

    [Fact]
    public async Task GetCredentials_ServerNeverAnswers_ExitsOneWhenTheNetworkDeadlineRunsOutOnTheClock()
    {
        _server.Behaviour.Hang = true;
        var watch = Stopwatch.StartNew();

        var run = RunAsync(new MemoryStream(Encoding.UTF8.GetBytes(Requests.Node())));
        await WaitUntilAsync(() => !_server.Requests.IsEmpty);
        Assert.Equal([Dispatcher.NetworkDeadline, Dispatcher.ProcessDeadline], _clock.DueTimes);
        _clock.Advance(Dispatcher.NetworkDeadline - OneTick);
        Assert.False(run.IsCompleted, "gave up before the network deadline");
        _clock.Advance(OneTick);
        var exitCode = await run.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
        watch.Stop();

        Assert.Equal(ExitCodes.Failed, exitCode);
        Assert.Equal($"metadata-proxy-credential-provider: no answer from the node socket {_server.SocketPath} in time\n", _error.ToString());
        Assert.Equal(0, _output.Length);
        // The clock ended it, not a real timer.
        Assert.True(watch.Elapsed < Dispatcher.NetworkDeadline, $"answered after {watch.Elapsed} of real time");
    }

    [Fact]
    public async Task GetCredentials_StdinNeverClosed_ExitsOneWhenTheProcessDeadlineRunsOutOnTheClock()
    {
        var stdin = new OpenStdin();
        var watch = Stopwatch.StartNew();

        var run = RunAsync(stdin);
        await WaitUntilAsync(() => stdin.Reading);
        Assert.Equal([Dispatcher.NetworkDeadline, Dispatcher.ProcessDeadline], _clock.DueTimes);
        _clock.Advance(Dispatcher.ProcessDeadline - OneTick); // past the network deadline: a console read ignores it
        Assert.False(run.IsCompleted, "gave up before the process deadline");
        _clock.Advance(OneTick);
        var exitCode = await run.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
        watch.Stop();

        Assert.Equal(ExitCodes.Failed, exitCode);
        Assert.Equal("metadata-proxy-credential-provider: gave up after 9 s (is standard input left open?)\n", _error.ToString());
        Assert.Equal(0, _output.Length);
        Assert.Empty(_server.Requests);
        Assert.True(watch.Elapsed < Dispatcher.ProcessDeadline, $"answered after {watch.Elapsed} of real time");
    }

    private Task<int> RunAsync(Stream stdin) =>
        Dispatcher.RunAsync("metadata-proxy-credential-provider", ["get-credentials", "--socket", _server.SocketPath], _ => null, stdin, _output, _error, _clock);

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        var watch = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(10), "the condition did not hold in time");
            await Task.Delay(10, TestContext.Current.CancellationToken);
        }
    }

    /// <summary>Standard input as the console gives it when the writer never closes it: a read that ignores its token.</summary>
    private sealed class OpenStdin : Stream
    {
        private volatile bool _reading;

        public bool Reading => _reading;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => throw new NotSupportedException();
            set => throw new NotSupportedException();
        }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            _reading = true;
            return new ValueTask<int>(new TaskCompletionSource<int>().Task);
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
