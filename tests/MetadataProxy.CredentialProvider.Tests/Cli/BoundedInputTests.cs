using MetadataProxy.CredentialProvider.Cli;

namespace MetadataProxy.CredentialProvider.Tests.Cli;

public sealed class BoundedInputTests
{
    [Theory]
    [InlineData(0)]
    [InlineData(100)]
    [InlineData(8 * 1024)]
    [InlineData(BoundedInput.MaxBytes)]
    public async Task ReadAsync_UpToTheCap_ReturnsEveryByte(int length)
    {
        var bytes = Enumerable.Range(0, length).Select(i => (byte)i).ToArray();

        var read = await BoundedInput.ReadAsync(new MemoryStream(bytes), TestContext.Current.CancellationToken);

        Assert.True(read.Succeeded);
        Assert.Equal(bytes, read.Value);
    }

    [Fact]
    public async Task ReadAsync_OverTheCap_IsBadInput()
    {
        var read = await BoundedInput.ReadAsync(new MemoryStream(new byte[BoundedInput.MaxBytes + 1]), TestContext.Current.CancellationToken);

        Assert.False(read.Succeeded);
        Assert.Equal(2, read.Failure.ExitCode);
        Assert.Equal("standard input is larger than 1 MiB", read.Failure.Message);
    }
}
