using MetadataProxy.Hosting;
using Microsoft.Extensions.Hosting.Internal;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace MetadataProxy.UnitTests.Hosting;

/// <summary><see cref="ListenSockets"/> as the server builds it, with the metadata listener and preconditions a test gives.</summary>
internal static class TestListenSockets
{
    public static ListenSockets Create(
        string metadata = "http://127.0.0.1:1",
        IEnumerable<ServingPrecondition>? preconditions = null,
        ApplicationLifetime? lifetime = null,
        TimeProvider? time = null) =>
        new(
            Options.Create(new ListenerOptions { Metadata = metadata }),
            preconditions ?? [],
            lifetime ?? NewLifetime(),
            time ?? TimeProvider.System,
            NullLogger<ListenSockets>.Instance);

    public static ApplicationLifetime NewLifetime() => new(NullLogger<ApplicationLifetime>.Instance);
}
