namespace MetadataProxy.EndToEnd.Server;

/// <summary>
/// The server lab as an operator turns the node identity on for host processes: the script with
/// <c>HOST_INTERCEPTION=on</c> and <c>HOST_DNS=on</c>, the server with <c>Identity:HostNetworkPolicy=NodeIdentity</c>.
/// </summary>
public sealed class HostIdentityLab : IAsyncLifetime
{
    public ServerLab Server { get; } = new() { HostInterception = "on", HostDns = "on", HostNetworkPolicy = "NodeIdentity" };

    public ValueTask InitializeAsync() => Server.InitializeAsync();

    public ValueTask DisposeAsync() => Server.DisposeAsync();
}
