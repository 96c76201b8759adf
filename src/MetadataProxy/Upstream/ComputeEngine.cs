namespace MetadataProxy.Upstream;

/// <summary>Whether this machine is a Compute Engine VM, as its firmware says (what google-guest-agent checks too).</summary>
internal static class ComputeEngine
{
    private const string ProductNameFile = "/sys/class/dmi/id/product_name";

    public static bool Detected()
    {
        try
        {
            return File.Exists(ProductNameFile) && File.ReadAllText(ProductNameFile).Trim().StartsWith("Google", StringComparison.Ordinal);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }
}
