using System.Collections.Immutable;
using MetadataProxy.Pods;

namespace MetadataProxy.UnitTests.Pods;

/// <summary>Issue 9, rows 6 and 7: the ownership rule of one address as a table.</summary>
public sealed class AddressOwnersTests
{
    // Claimants: L = live, T = terminating with containers running, S = terminating with containers stopped,
    // F = Failed. Waiting: how many pods on the node have no address yet.
    [Theory]
    [InlineData("", 0, "nobody")]
    [InlineData("L", 0, "one:L0")]
    [InlineData("L", 3, "one:L0")]
    [InlineData("LL", 0, "ambiguous:2")]
    [InlineData("T", 0, "one:T0")]
    [InlineData("T", 1, "contended")]
    [InlineData("TL", 1, "one:L1")]
    [InlineData("TL", 0, "one:L1")]
    [InlineData("TT", 0, "ambiguous:2")]
    [InlineData("TLL", 0, "ambiguous:2")]
    [InlineData("S", 0, "nobody")]
    [InlineData("SL", 0, "one:L1")]
    [InlineData("F", 0, "nobody")]
    [InlineData("FT", 0, "one:T1")]
    public void Decide_Table(string claimants, int waiting, string expected)
    {
        var pods = claimants.Select((kind, i) => Pod($"{kind}{i}", kind)).ToImmutableArray();
        var awaiting = Enumerable.Range(0, waiting).Select(i => Pod($"W{i}", 'W')).ToImmutableArray();

        var owner = AddressOwners.Decide(pods, awaiting);

        var actual = owner switch
        {
            AddressOwner.Nobody => "nobody",
            AddressOwner.One one => "one:" + one.Pod.Uid,
            AddressOwner.Ambiguous ambiguous => "ambiguous:" + ambiguous.Pods.Length,
            AddressOwner.Contended => "contended",
            _ => owner.GetType().Name,
        };
        Assert.Equal(expected, actual);
    }

    private static PodRecord Pod(string uid, char kind) =>
        new(uid, "ns", "pod-" + uid, "ksa", kind == 'W' ? [] : [IPAddress.Parse("10.4.1.7")],
            kind switch { 'F' => "Failed", 'W' => "Pending", _ => "Running" }, HostNetwork: false, Terminating: kind is 'T' or 'S')
        {
            ContainersStopped = kind == 'S',
        };
}
