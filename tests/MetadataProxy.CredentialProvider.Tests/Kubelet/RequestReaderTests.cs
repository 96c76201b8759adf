using System.Text;
using MetadataProxy.CredentialProvider.Kubelet;

namespace MetadataProxy.CredentialProvider.Tests.Kubelet;

public sealed class RequestReaderTests
{
    private const string Token = "eyJhbGciOiJSUzI1NiJ9.secret-ksa-token.sig";

    [Fact]
    public void Read_V1WithoutToken_IsNodeRequest()
    {
        var request = Read("""{"apiVersion":"credentialprovider.kubelet.k8s.io/v1","kind":"CredentialProviderRequest","image":"gcr.io/p/i"}""");

        Assert.True(request.Succeeded);
        Assert.Equal(ApiVersions.V1, request.Value.ApiVersion);
        Assert.Equal("gcr.io/p/i", request.Value.Image);
        Assert.Null(request.Value.ServiceAccountToken);
        Assert.Null(request.Value.ServiceAccountAnnotations);
    }

    [Fact]
    public void Read_V1WithTokenAndAnnotations_KeepsBoth()
    {
        var request = Read($$"""
            {"apiVersion":"credentialprovider.kubelet.k8s.io/v1","kind":"CredentialProviderRequest","image":"gcr.io/p/i",
             "serviceAccountToken":"{{Token}}","serviceAccountAnnotations":{"iam.gke.io/gcp-service-account":"a@p.iam.gserviceaccount.com"},
             "futureField":true}
            """);

        Assert.True(request.Succeeded);
        Assert.Equal(Token, request.Value.ServiceAccountToken);
        Assert.Equal("a@p.iam.gserviceaccount.com", request.Value.ServiceAccountAnnotations!["iam.gke.io/gcp-service-account"]);
        Assert.DoesNotContain(Token, request.Value.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Read_EmptyToken_IsNodeRequest()
    {
        var request = Read("""{"apiVersion":"credentialprovider.kubelet.k8s.io/v1","kind":"CredentialProviderRequest","image":"gcr.io/p/i","serviceAccountToken":""}""");

        Assert.True(request.Succeeded);
        Assert.Null(request.Value.ServiceAccountToken);
    }

    [Theory]
    [InlineData("credentialprovider.kubelet.k8s.io/v1beta1")]
    [InlineData("credentialprovider.kubelet.k8s.io/v1alpha1")]
    public void Read_OlderVersionWithImageOnly_IsAccepted(string apiVersion)
    {
        var request = Read($$"""{"apiVersion":"{{apiVersion}}","kind":"CredentialProviderRequest","image":"gcr.io/p/i"}""");

        Assert.True(request.Succeeded);
        Assert.Equal(apiVersion, request.Value.ApiVersion);
    }

    [Theory]
    [InlineData("", "standard input is empty")]
    [InlineData(" \n\t", "standard input is empty")]
    [InlineData("not json", "standard input is not valid JSON (line 1, byte 2)")]
    [InlineData("[1,2]", "expected a JSON object")]
    [InlineData("\"text\"", "expected a JSON object")]
    [InlineData("null", "expected a JSON object")]
    [InlineData("{\"apiVersion\":", "standard input is not valid JSON (line 1, byte 15)")]
    [InlineData("{} trailing", "standard input is not valid JSON (line 1, byte 4)")]
    [InlineData("{\"apiVersion\":\"credentialprovider.kubelet.k8s.io/v1\",\"kind\":\"CredentialProviderRequest\",\"image\":5}", "$.image has the wrong JSON type")]
    [InlineData("{\"apiVersion\":\"credentialprovider.kubelet.k8s.io/v1\",\"kind\":\"CredentialProviderRequest\",\"image\":\"i\",\"serviceAccountAnnotations\":[]}", "$.serviceAccountAnnotations has the wrong JSON type")]
    [InlineData("{\"kind\":\"CredentialProviderRequest\",\"image\":\"gcr.io/p/i\"}", "no apiVersion")]
    [InlineData("{\"apiVersion\":\"credentialprovider.kubelet.k8s.io/v2\",\"kind\":\"CredentialProviderRequest\",\"image\":\"gcr.io/p/i\"}", "apiVersion credentialprovider.kubelet.k8s.io/v2 is not supported")]
    [InlineData("{\"apiVersion\":\"v1\",\"kind\":\"CredentialProviderRequest\",\"image\":\"gcr.io/p/i\"}", "apiVersion v1 is not supported")]
    [InlineData("{\"apiVersion\":\"credentialprovider.kubelet.k8s.io/v1\",\"kind\":\"CredentialProviderResponse\",\"image\":\"gcr.io/p/i\"}", "kind is 'CredentialProviderResponse'")]
    [InlineData("{\"apiVersion\":\"credentialprovider.kubelet.k8s.io/v1\",\"image\":\"gcr.io/p/i\"}", "kind is ''")]
    [InlineData("{\"apiVersion\":\"credentialprovider.kubelet.k8s.io/v1\",\"kind\":\"CredentialProviderRequest\"}", "no image")]
    [InlineData("{\"apiVersion\":\"credentialprovider.kubelet.k8s.io/v1beta1\",\"kind\":\"CredentialProviderRequest\",\"image\":\"i\",\"serviceAccountToken\":\"t\"}", "exist only in credentialprovider.kubelet.k8s.io/v1")]
    public void Read_Malformed_IsBadInputWithReason(string input, string expected)
    {
        var request = Read(input);

        Assert.False(request.Succeeded);
        Assert.Equal(2, request.Failure.ExitCode);
        Assert.Contains(expected, request.Failure.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("LineNumber", request.Failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_UnquotedToken_NeverQuotesTheInput()
    {
        // System.Text.Json would say "'tok…' is an invalid JSON literal": the position is all that is reported.
        var request = Read("""{"apiVersion":"credentialprovider.kubelet.k8s.io/v1","serviceAccountToken":tokensecretvalue}""");

        Assert.False(request.Succeeded);
        Assert.Equal("standard input is not valid JSON (line 1, byte 77)", request.Failure.Message);
    }

    [Fact]
    public void Read_TokenOfWrongType_NeverQuotesTheInput()
    {
        var request = Read($$$"""{"apiVersion":"credentialprovider.kubelet.k8s.io/v1","kind":"CredentialProviderRequest","image":"i","serviceAccountToken":{"t":"{{{Token}}}"}}""");

        Assert.False(request.Succeeded);
        Assert.Contains("$.serviceAccountToken has the wrong JSON type", request.Failure.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(Token, request.Failure.Message, StringComparison.Ordinal);
    }

    private static MetadataProxy.CredentialProvider.Cli.Result<KubeletRequest> Read(string input) =>
        RequestReader.Read(Encoding.UTF8.GetBytes(input));
}
