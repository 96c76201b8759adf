using MetadataProxy.CredentialProvider.Cli;

namespace MetadataProxy.CredentialProvider.Tests.Cli;

public sealed class ErrorLineTests
{
    [Theory]
    [InlineData("refused", "refused")]
    [InlineData("  padded \n", "padded")]
    [InlineData("two\nlines", "two lines")]
    [InlineData("tab\there\u001b[31m", "tab here [31m")]
    public void Format_Reason_IsOnePrintableLine(string reason, string expected) =>
        Assert.Equal(expected, ErrorLine.Format(reason));

    [Fact]
    public void Format_LongReason_IsCut()
    {
        Assert.Equal(1000, ErrorLine.Format(new string('x', 5000)).Length);
    }
}
