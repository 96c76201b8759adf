using MetadataProxy.CredentialProvider.Cli;

namespace MetadataProxy.CredentialProvider.Registries;

/// <summary>The registry host of a container image reference, by the rules of the Docker reference grammar.</summary>
internal static class ImageReference
{
    /// <summary>Where an image without a registry component is pulled from.</summary>
    public const string DefaultRegistry = "docker.io";

    /// <summary>
    /// The first path component is a registry host only when it looks like one (a dot, a colon, "localhost", or an
    /// upper-case letter, which repository names cannot hold); otherwise the image is on Docker Hub. The port is kept:
    /// the kubelet matches a key with a port only against images with that port.
    /// </summary>
    public static Result<string> RegistryHost(string image)
    {
        if (string.IsNullOrWhiteSpace(image))
            return Failure.BadInput("the request's image is empty");
        if (image.Any(c => char.IsWhiteSpace(c) || char.IsControl(c)))
            return Failure.BadInput("the request's image contains white space or control characters");

        var slash = image.IndexOf('/', StringComparison.Ordinal);
        if (slash < 0)
            return Result<string>.Success(DefaultRegistry);

        var first = image[..slash];
        if (first.Length == 0)
            return Failure.BadInput("the request's image starts with '/'");
        if (!IsHost(first))
            return Result<string>.Success(DefaultRegistry);

        // Docker Hub's legacy name is the same registry.
        return Result<string>.Success(first == "index.docker.io" ? DefaultRegistry : first);
    }

    /// <summary>What follows the registry host, with its leading '/' ("/team/app:1"), as the kubelet compares a
    /// pattern's path with it; the whole reference for an image on Docker Hub without a registry component.</summary>
    public static string PathAfterHost(string image)
    {
        var slash = image.IndexOf('/', StringComparison.Ordinal);
        return slash > 0 && IsHost(image[..slash]) ? image[slash..] : "/" + image;
    }

    private static bool IsHost(string first) =>
        first.Contains('.', StringComparison.Ordinal)
        || first.Contains(':', StringComparison.Ordinal)
        || first == "localhost"
        || first.Any(char.IsUpper);
}
