namespace MetadataProxy.FunctionalTests.Infrastructure;

/// <summary>The spec's fixture values (gce-metadata-api.md, "Fixture used by the examples").</summary>
internal static class Fixture
{
    public const string ProjectId = "test-project";
    public const string NumericProjectId = "123456789012";
    public const string InstanceId = "1234567890123456789";
    public const string InstanceName = "gke-test-pool-1-abcd";
    public const string Hostname = "gke-test-pool-1-abcd.us-central1-a.c.test-project.internal";
    public const string Zone = "projects/123456789012/zones/us-central1-a";
    public const string ClusterName = "test-cluster";
    public const string ClusterLocation = "us-central1";
    public const string ClusterUid = "4b1c3e0a-5f6d-4c1b-9a7e-2d8f0c6b1a93";
    public const string AppServiceAccount = "app@test-project.iam.gserviceaccount.com";
    public const string CloudPlatformScope = "https://www.googleapis.com/auth/cloud-platform";
    public const string UserInfoEmailScope = "https://www.googleapis.com/auth/userinfo.email";

    public static Dictionary<string, string?> MetadataSettings() => new()
    {
        ["Metadata:ProjectId"] = ProjectId,
        ["Metadata:NumericProjectId"] = NumericProjectId,
        ["Metadata:InstanceId"] = InstanceId,
        ["Metadata:InstanceName"] = InstanceName,
        ["Metadata:Hostname"] = Hostname,
        ["Metadata:Zone"] = Zone,
        ["Metadata:ClusterName"] = ClusterName,
        ["Metadata:ClusterLocation"] = ClusterLocation,
        ["Metadata:ClusterUid"] = ClusterUid,
    };
}
