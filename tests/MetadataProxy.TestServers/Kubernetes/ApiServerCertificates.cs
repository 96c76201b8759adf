using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace MetadataProxy.TestServers.Kubernetes;

/// <summary>
/// What a kube-apiserver serves with: a cluster CA (self-signed, written into the kubeconfig as
/// <c>certificate-authority-data</c>) and a serving certificate it signed for 127.0.0.1.
/// </summary>
internal sealed class ApiServerCertificates : IDisposable
{
    private ApiServerCertificates(X509Certificate2 authority, X509Certificate2 serving)
    {
        Authority = authority;
        Serving = serving;
    }

    public X509Certificate2 Authority { get; }

    /// <summary>The serving certificate, with its private key.</summary>
    public X509Certificate2 Serving { get; }

    public string AuthorityPem => Authority.ExportCertificatePem();

    public static ApiServerCertificates Create()
    {
        var now = DateTimeOffset.UtcNow;
        using var caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var caRequest = new CertificateRequest("CN=kubernetes-test-ca", caKey, HashAlgorithmName.SHA256);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        caRequest.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(caRequest.PublicKey, false));
        var authority = caRequest.CreateSelfSigned(now.AddMinutes(-5), now.AddDays(1));

        using var servingKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var servingRequest = new CertificateRequest("CN=kube-apiserver", servingKey, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        names.AddDnsName("localhost");
        names.AddDnsName("kubernetes.default.svc");
        servingRequest.CertificateExtensions.Add(names.Build());
        servingRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        servingRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        servingRequest.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        using var signed = servingRequest.Create(authority, now.AddMinutes(-5), now.AddDays(1), RandomNumberGenerator.GetBytes(16));
        var serving = signed.CopyWithPrivateKey(servingKey);
        return new ApiServerCertificates(authority, serving);
    }

    public void Dispose()
    {
        Authority.Dispose();
        Serving.Dispose();
    }
}
