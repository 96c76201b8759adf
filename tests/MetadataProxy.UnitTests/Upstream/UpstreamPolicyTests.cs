using MetadataProxy.Upstream;

namespace MetadataProxy.UnitTests.Upstream;

public sealed class UpstreamPolicyTests
{
    public static TheoryData<string, string, bool, string> Cases() => new()
    {
        // method, path below v1/, recursive, decision
        { "GET", "instance/network-interfaces/0/ip", false, nameof(UpstreamDecision.Forward) },
        { "HEAD", "instance/preempted", false, nameof(UpstreamDecision.Forward) },
        { "GET", "instance/network-interfaces", true, nameof(UpstreamDecision.Forward) },
        { "GET", "instance/attributes/my-key", false, nameof(UpstreamDecision.Forward) },
        { "GET", "project/attributes/my_key", false, nameof(UpstreamDecision.Forward) },
        { "POST", "instance/preempted", false, nameof(UpstreamDecision.NotAllowed) },
        { "GET", "instance/virtual-clock/drift-token", false, nameof(UpstreamDecision.NotAllowed) },
        { "GET", "project/project-id", false, nameof(UpstreamDecision.NotAllowed) },
        { "GET", "instance/Preempted", false, nameof(UpstreamDecision.NotAllowed) },
        { "GET", "instance/attributes", true, nameof(UpstreamDecision.NotAllowed) },
        { "GET", "instance", true, nameof(UpstreamDecision.NotAllowed) },
        { "GET", "", true, nameof(UpstreamDecision.NotAllowed) },
        { "GET", "instance/attributes/my.key", false, nameof(UpstreamDecision.NotAllowed) },
        { "GET", "instance/attributes/my;key", false, nameof(UpstreamDecision.NotAllowed) },
        { "GET", "instance/attributes/a%2fb", false, nameof(UpstreamDecision.NotAllowed) },
        { "GET", "instance/attributes/a\\b", false, nameof(UpstreamDecision.NotAllowed) },
        { "GET", "instance/attributes/kube-env", false, nameof(UpstreamDecision.Concealed) },
        { "GET", "instance/attributes/KUBE_ENV", false, nameof(UpstreamDecision.Concealed) },
        { "GET", "instance/attributes/kubeEnv", false, nameof(UpstreamDecision.Concealed) },
        { "GET", "instance/attributes/kube-env.", false, nameof(UpstreamDecision.Concealed) },
        { "GET", "instance/attributes/kubelet-cert", false, nameof(UpstreamDecision.Concealed) },
        { "GET", "instance/attributes/startup-script-url", false, nameof(UpstreamDecision.Concealed) },
        { "GET", "instance/attributes/sshKeys", false, nameof(UpstreamDecision.Concealed) },
        { "GET", "project/attributes/ssh-keys", false, nameof(UpstreamDecision.Concealed) },
        { "GET", "instance/service-accounts/default/token", false, nameof(UpstreamDecision.Concealed) },
        { "GET", "instance/guest-attributes/hostkeys/ssh-rsa", false, nameof(UpstreamDecision.Concealed) },
        { "GET", "instance/network-interfaces/0/user-data", false, nameof(UpstreamDecision.Concealed) },
        { "DELETE", "instance/attributes/kube-env", false, nameof(UpstreamDecision.NotAllowed) },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Decide_OnTheDefaultAllowList_ConcealsFirstThenAllowsOnlyPlainKeys(string method, string path, bool recursive, string expected)
    {
        var segments = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(Enum.Parse<UpstreamDecision>(expected), UpstreamPolicy.Decide(method, segments, recursive, UpstreamPolicy.DefaultAllow));
    }

    [Fact]
    public void Decide_WithAnOperatorsAllowList_ForwardsOnlyWhatItNames()
    {
        var allow = new UpstreamAllowList(["instance/machine-type"]);

        Assert.Equal(UpstreamDecision.Forward, UpstreamPolicy.Decide("GET", ["instance", "machine-type"], false, allow));
        Assert.Equal(UpstreamDecision.NotAllowed, UpstreamPolicy.Decide("GET", ["instance", "preempted"], false, allow));
    }
}
