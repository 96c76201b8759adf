namespace MetadataProxy.EndToEnd.Server;

/// <summary>
/// The server lab with host processes intercepted (<c>HOST_INTERCEPTION=on</c>) but the server's default
/// <c>Identity:HostNetworkPolicy=Deny</c>: the half-done configuration, which must refuse the host, not serve it.
/// </summary>
public sealed class HostDeniedLab : IAsyncLifetime
{
    public ServerLab Server { get; } = new() { HostInterception = "on" };

    public ValueTask InitializeAsync() => Server.InitializeAsync();

    public ValueTask DisposeAsync() => Server.DisposeAsync();
}
