using MetadataProxy.PullSecrets;

namespace MetadataProxy.UnitTests.PullSecrets;

public sealed class PullSecretNameTests
{
    [Fact]
    public void For_IsDeterministicReadableAndAValidName()
    {
        var name = PullSecretName.For("builder");

        Assert.Equal(name, PullSecretName.For("builder"));
        Assert.StartsWith("builder-gcp-pull-", name, StringComparison.Ordinal);
        Assert.True(PullSecretName.IsDnsSubdomain(name));
    }

    [Fact]
    public void For_LongNamesThatShortenAlike_StayDistinctAndValid()
    {
        var common = new string('a', 240);
        var first = PullSecretName.For(common + ".x");
        var second = PullSecretName.For(common + ".y");

        Assert.NotEqual(first, second);
        Assert.All(new[] { first, second }, n => Assert.True(PullSecretName.IsDnsSubdomain(n) && n.Length <= 253, n));
    }

    [Fact]
    public void For_ANameCutAtADot_DoesNotEndTheReadablePartWithIt()
    {
        var name = PullSecretName.For(new string('b', 199) + ".cc");

        Assert.True(PullSecretName.IsDnsSubdomain(name), name);
    }
}
