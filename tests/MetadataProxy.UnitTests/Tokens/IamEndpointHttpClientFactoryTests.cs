using System.Net.Sockets;
using Google.Apis.Http;
using MetadataProxy.Tokens;
using Microsoft.Extensions.Time.Testing;

namespace MetadataProxy.UnitTests.Tokens;

/// <summary>
/// Issue 9: a call to Google ends at the upstream deadline as a failure, so that Google.Apis.Auth's shared refresh
/// (which only retries cancellations) ends with it; a caller's own cancellation stays a cancellation.
/// </summary>
public sealed class IamEndpointHttpClientFactoryTests : IDisposable
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(2.5);
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 1, 5, 0, 0, TimeSpan.Zero));
    private readonly TcpListener _hungGoogle = new(IPAddress.Loopback, 0); // accepts, never answers
    private readonly SocketsHttpHandler _shared = new();

    public IamEndpointHttpClientFactoryTests() => _hungGoogle.Start();

    [Fact]
    public async Task HungCall_EndsAtTheDeadlineAsAFailureNotACancellation()
    {
        using var client = Client();
        var sending = client.GetAsync(HungUri, TestContext.Current.CancellationToken);
        using var accepted = await _hungGoogle.AcceptTcpClientAsync(TestContext.Current.CancellationToken);
        Assert.False(sending.IsCompleted);

        _time.Advance(Deadline - TimeSpan.FromMilliseconds(1));
        Assert.False(sending.IsCompleted); // a hang stays a hang before the deadline

        _time.Advance(TimeSpan.FromMilliseconds(1));
        var failure = await Assert.ThrowsAsync<HttpRequestException>(() => sending);
        Assert.Contains("did not answer within 2.5 s", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CallersOwnCancellation_StaysACancellation()
    {
        using var client = Client();
        using var caller = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        var sending = client.GetAsync(HungUri, caller.Token);
        using var accepted = await _hungGoogle.AcceptTcpClientAsync(TestContext.Current.CancellationToken);

        await caller.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => sending);
    }

    public void Dispose()
    {
        _hungGoogle.Stop();
        _hungGoogle.Dispose();
        _shared.Dispose();
    }

    private Uri HungUri => new($"http://127.0.0.1:{((IPEndPoint)_hungGoogle.LocalEndpoint).Port}/v1/token");

    private ConfigurableHttpClient Client() =>
        new IamEndpointHttpClientFactory(new Uri("http://127.0.0.1:1/"), _shared, Deadline, _time).CreateHttpClient(new CreateHttpClientArgs());
}
