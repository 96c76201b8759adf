using Microsoft.Extensions.Configuration;

namespace MetadataProxy.FunctionalTests.Infrastructure;

/// <summary>In-memory configuration that a test can change while the server runs, firing a real reload.</summary>
internal sealed class TestConfigurationSource(IDictionary<string, string?> initial) : IConfigurationSource
{
    public TestConfigurationProvider Provider { get; } = new(initial);

    public IConfigurationProvider Build(IConfigurationBuilder builder) => Provider;
}

internal sealed class TestConfigurationProvider : ConfigurationProvider
{
    public TestConfigurationProvider(IDictionary<string, string?> initial)
    {
        foreach (var (key, value) in initial)
            Data[key] = value;
    }

    public void SetAndReload(string key, string? value)
    {
        if (value is null)
            Data.Remove(key);
        else
            Data[key] = value;
        OnReload();
    }
}
