using MetadataProxy.PullSecrets;

namespace MetadataProxy.UnitTests.PullSecrets;

public sealed class PullSecretsOptionsValidatorTests
{
    private static PullSecretsOptions Valid() => new() { Namespace = "metadata-proxy-pull-secrets", Identity = "replica-a" };

    [Fact]
    public void Validate_Defaults_Succeed()
    {
        Assert.True(new PullSecretsOptionsValidator().Validate(null, Valid()).Succeeded);
    }

    [Theory]
    [InlineData("Namespace", "", "PullSecrets:Namespace is required")]
    [InlineData("Identity", "", "PullSecrets:Identity is required")]
    [InlineData("LeaseName", "Not_A_Name", "PullSecrets:LeaseName 'Not_A_Name'")]
    [InlineData("RenewDeadline", "00:00:14", "PullSecrets:RenewDeadline 00:00:14 must be longer than")]
    [InlineData("RenewDeadline", "00:00:01", "PullSecrets:RenewDeadline 00:00:01 must be longer than")]
    [InlineData("MinimumLifetime", "00:01:00", "PullSecrets:MinimumLifetime 00:01:00")]
    [InlineData("Scopes", "cloud-platform", "PullSecrets:Scopes 'cloud-platform' must be")]
    [InlineData("Scopes", " ; ", "PullSecrets:Scopes ' ; ' must be")]
    [InlineData("Registries", "gcr.io;*.*", "PullSecrets:Registries: '*.*' would match registries of anyone")]
    [InlineData("ListPageSize", "0", "PullSecrets:ListPageSize 0 must be between 1 and 10000")]
    [InlineData("ListPageSize", "10001", "PullSecrets:ListPageSize 10001 must be between 1 and 10000")]
    public void Validate_Invalid_NamesTheSettingAndValue(string property, string value, string expected)
    {
        var options = Valid();
        var target = typeof(PullSecretsOptions).GetProperty(property)!;
        target.SetValue(options, target.PropertyType == typeof(TimeSpan) ? TimeSpan.Parse(value, System.Globalization.CultureInfo.InvariantCulture)
            : target.PropertyType == typeof(int) ? int.Parse(value, System.Globalization.CultureInfo.InvariantCulture) : value);

        var result = new PullSecretsOptionsValidator().Validate(null, options);

        Assert.True(result.Failed);
        Assert.Contains(result.Failures!, f => f.Contains(expected, StringComparison.Ordinal));
    }
}
