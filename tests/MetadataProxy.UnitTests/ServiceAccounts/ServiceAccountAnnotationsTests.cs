using MetadataProxy.ServiceAccounts;

namespace MetadataProxy.UnitTests.ServiceAccounts;

public sealed class ServiceAccountAnnotationsTests
{
    [Fact]
    public void Parse_AllThreeAnnotations_AreRead()
    {
        var parsed = ServiceAccountAnnotations.Parse(new Dictionary<string, string>
        {
            ["iam.gke.io/gcp-service-account"] = " app@test-project.iam.gserviceaccount.com ",
            ["iam.gke.io/return-principal-id-as-email"] = "true",
            ["iam.gke.io/credential-quota-project"] = "billing-project",
        }, out var problem);
        Assert.Null(problem);
        Assert.Equal(new ServiceAccountAnnotations("app@test-project.iam.gserviceaccount.com", true, "billing-project"), parsed);
    }

    [Fact]
    public void Parse_NoAnnotations_IsDirectAccess()
    {
        Assert.Equal(new ServiceAccountAnnotations(null, false, null), ServiceAccountAnnotations.Parse(null, out _));
        Assert.Equal(new ServiceAccountAnnotations(null, false, null), ServiceAccountAnnotations.Parse(new Dictionary<string, string> { ["other"] = "x" }, out _));
    }

    [Theory]
    [InlineData("iam.gke.io/gcp-service-account", "app", "is not a Google service account e-mail")]
    [InlineData("iam.gke.io/gcp-service-account", "app@example.com", "is not a Google service account e-mail")]
    [InlineData("iam.gke.io/gcp-service-account", "", "is not a Google service account e-mail")]
    [InlineData("iam.gke.io/gcp-service-account", "App@test-project.iam.gserviceaccount.com", "is not a Google service account e-mail")]
    [InlineData("iam.gke.io/return-principal-id-as-email", "yes", "must be true or false")]
    [InlineData("iam.gke.io/credential-quota-project", "Not A Project", "is not a Google project id")]
    public void Parse_MalformedAnnotation_IsRefusedNamingItAndTheValue(string key, string value, string problemText)
    {
        var parsed = ServiceAccountAnnotations.Parse(new Dictionary<string, string> { [key] = value }, out var problem);
        Assert.Null(parsed);
        Assert.Contains(key, problem, StringComparison.Ordinal);
        Assert.Contains(problemText, problem, StringComparison.Ordinal);
    }
}
