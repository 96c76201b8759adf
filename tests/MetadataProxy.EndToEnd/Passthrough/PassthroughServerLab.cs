using MetadataProxy.EndToEnd.Lab;
using MetadataProxy.EndToEnd.Server;
using MetadataProxy.TestServers.ComputeMetadata;

namespace MetadataProxy.EndToEnd.Passthrough;

/// <summary>
/// Issue 12 on a Compute Engine-like node: the server lab with <c>Upstream:Mode=Passthrough</c> at its default address,
/// and the VM's own metadata server (the Compute Engine test server) at 169.254.169.254:80 in the cloud namespace,
/// reached by the server over the node's uplink, never through the interception.
/// </summary>
public sealed class PassthroughServerLab : IAsyncLifetime
{
    public const string VmSecret = "VM-SECRET";
    private ComputeMetadataTestServer? _upstream;

    public PassthroughServerLab()
    {
        Server = new ServerLab
        {
            ExtraServerArguments = ["--Upstream:Mode=Passthrough"],
            BeforeServerStarts = StartUpstreamAsync,
        };
    }

    public ServerLab Server { get; }

    public ComputeMetadataTestServer Upstream => _upstream ?? throw new InvalidOperationException("The lab was not built.");

    public ValueTask InitializeAsync() => Server.InitializeAsync();

    public async ValueTask DisposeAsync()
    {
        await Server.DisposeAsync();
        if (_upstream is not null)
            await _upstream.DisposeAsync();
    }

    private async Task StartUpstreamAsync(NetworkNamespaceLab lab, CancellationToken cancellationToken)
    {
        var socket = lab.CreateTcpSocket(lab.CloudNamespace, AddressFamily.InterNetwork);
        socket.Bind(new IPEndPoint(LabNetwork.Metadata4, 80));
        socket.Listen(64);
        _upstream = await ComputeMetadataTestServer.StartAsync(socket, cancellationToken);
        _upstream.Set("instance/machine-type", "projects/999/machineTypes/e2-standard-4");
        _upstream.Set("instance/maintenance-event", "NONE");
        _upstream.Set("instance/attributes/kube-env", VmSecret + "-kube-env");
        _upstream.Set("instance/service-accounts/default/token", "{\"access_token\":\"" + VmSecret + "-token\"}");
        _upstream.Set("instance/service-accounts/default/email", "vm-sa@vm-project.iam.gserviceaccount.com");
    }
}
