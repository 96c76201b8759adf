using MetadataProxy.EndToEnd.Lab;
using MetadataProxy.TestServers.Google;

namespace MetadataProxy.EndToEnd.Server;

/// <summary>
/// The command line of the real server in Kubernetes mode, configured as the DaemonSet configures it
/// (<c>manifests/config.env</c>: its <c>Listen__Metadata</c> itself, both families) except that the Kubernetes API and Google are the test servers
/// and the node socket is off (the functional tests cover it); the downward-API variables come from <see cref="ServerLab"/>.
/// </summary>
public static class ServerCommand
{
    /// <summary>Where the build put the server: the project reference copies it beside the tests.</summary>
    public static string Executable => Path.Combine(AppContext.BaseDirectory, "MetadataProxy.dll");

    /// <summary>
    /// How the server starts: <c>dotnet MetadataProxy.dll</c>, as the image runs it; or, when
    /// <c>METADATAPROXY_SERVER_EXE</c> names one, that executable (a NativeAOT publish, README: Performance), so the whole
    /// suite runs against that build. It must be readable and executable by the lab's server user.
    /// </summary>
    public static IReadOnlyList<string> Launcher =>
        Environment.GetEnvironmentVariable("METADATAPROXY_SERVER_EXE") is { Length: > 0 } exe ? [exe] : ["dotnet", Executable];

    /// <summary>
    /// <c>Listen__Metadata</c> as <c>manifests/config.env</c> ships it: the lab's script runs with its default addresses
    /// (<see cref="LabNetwork.Proxy4"/>, <see cref="LabNetwork.Proxy6"/>), as the DaemonSet's does.
    /// </summary>
    public static string ShippedMetadataListeners =>
        File.ReadLines(Path.Combine(RepositoryFiles.Manifests, "config.env"))
            .Single(line => line.StartsWith("Listen__Metadata=", StringComparison.Ordinal))["Listen__Metadata=".Length..];

    // adminSocket: the server's own admin socket (its exec probes'), or null for none.
    public static IReadOnlyList<string> For(string kubeconfig, GoogleTestServer google, string hostNetworkPolicy = "Deny", string? adminSocket = null) =>
    [
        .. Launcher,
        // The server's appsettings.json, whatever the test runner's working directory.
        $"--contentRoot={AppContext.BaseDirectory}",
        "--Mode=Kubernetes",
        $"--Listen:Metadata={ShippedMetadataListeners}",
        // Loopback only: the DaemonSet's 0.0.0.0 would open the admin port on the pod bridge of this lab.
        $"--Listen:Admin=http://127.0.0.1:{ServerLab.AdminPort}",
        "--Listen:NodeSocket=",
        $"--Listen:AdminSocket={adminSocket}",
        $"--Identity:HostNetworkPolicy={hostNetworkPolicy}",
        // Several labs start servers at once on a shared machine, and a lab's first token JITs the whole Google path in the
        // server and in the test servers: under load that can take longer than the default 2.5 s, which then answers 503.
        // The deadline itself is not under test here: the functional tests cover it.
        "--Tokens:UpstreamDeadline=00:00:10",
        $"--Kubernetes:Kubeconfig={kubeconfig}",
        $"--Kubernetes:NodeName={ServerLab.NodeName}",
        $"--WorkloadIdentity:ProjectId={ServerLab.ProjectId}",
        $"--WorkloadIdentity:ProjectNumber={ServerLab.ProjectNumber}",
        $"--WorkloadIdentity:PoolId={ServerLab.PoolId}",
        $"--WorkloadIdentity:ProviderId={ServerLab.ProviderId}",
        $"--WorkloadIdentity:StsEndpoint={google.StsTokenUrl.AbsoluteUri}",
        $"--WorkloadIdentity:IamCredentialsEndpoint={google.IamCredentialsBaseUrl.AbsoluteUri}",
        "--Metadata:ClusterName=e2e-cluster",
        "--Metadata:ClusterLocation=us-central1",
        "--Metadata:ClusterUid=4b1c3e0a-5f6d-4c1b-9a7e-2d8f0c6b1a93",
        "--Metadata:InstanceId=1234567890123456789",
    ];
}
