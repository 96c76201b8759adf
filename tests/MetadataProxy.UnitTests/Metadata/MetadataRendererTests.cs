using System.Text;
using MetadataProxy.Metadata;

namespace MetadataProxy.UnitTests.Metadata;

public sealed class MetadataRendererTests
{
    [Theory]
    [InlineData("numeric-project-id", "numericProjectId")]
    [InlineData("service-accounts", "serviceAccounts")]
    [InlineData("universe-domain", "universeDomain")]
    [InlineData("id", "id")]
    [InlineData("a--b", "aB")]
    public void CamelCase_TurnsKebabKeysIntoGceJsonKeys(string kebab, string camel) =>
        Assert.Equal(camel, MetadataRenderer.CamelCase(kebab));

    [Fact]
    public void ETagOf_Is16LowercaseHexAndDependsOnContent()
    {
        var a = MetadataRenderer.ETagOf("test-project"u8);
        var b = MetadataRenderer.ETagOf("test-project2"u8);
        Assert.Matches("^[0-9a-f]{16}$", a);
        Assert.Equal(a, MetadataRenderer.ETagOf(Encoding.UTF8.GetBytes("test-project")));
        Assert.NotEqual(a, b);
    }

    [Fact]
    public void A_1_A_2_Value_ListThatIsJsonByDefault_RendersJsonUnlessAskedForText()
    {
        // GCE serves tags as JSON by default and as lines with alt=text.
        var tags = new MetadataValue.List(["tag-a", "tag-b"], jsonByDefault: true);
        var json = MetadataRenderer.Value(tags, alt: null);
        var text = MetadataRenderer.Value(tags, MetadataFormat.Text);
        Assert.Equal("application/json", json.ContentType);
        Assert.Equal("[\"tag-a\",\"tag-b\"]", Encoding.UTF8.GetString(json.Body));
        Assert.Equal("application/text", text.ContentType);
        Assert.Equal("tag-a\ntag-b\n", Encoding.UTF8.GetString(text.Body));
        Assert.Equal(json.ETag, text.ETag);
    }

    [Fact]
    public void RecursiveJson_KeepsFreeKeysVerbatimAndNumbersExact()
    {
        var tree = new DirectoryNode(new Dictionary<string, MetadataNode>
        {
            ["id"] = ValueNode.Number("18446744073709551615"),
            ["attributes"] = new DirectoryNode(new Dictionary<string, MetadataNode> { ["Mixed-Case_key"] = ValueNode.Text("v") }, KeyStyle.Free),
        });
        var body = Encoding.UTF8.GetString(MetadataRenderer.RecursiveJson(tree).Body);
        Assert.Equal("{\"attributes\":{\"Mixed-Case_key\":\"v\"},\"id\":18446744073709551615}", body);
    }

    [Fact]
    public void Listing_MarksDirectoriesWithASlashAndEndsEveryLine()
    {
        var tree = new DirectoryNode(new Dictionary<string, MetadataNode>
        {
            ["b"] = ValueNode.Text("x"),
            ["a"] = DirectoryNode.Empty,
            ["service-accounts"] = CallerDirectoryNode.Instance,
        });
        Assert.Equal("a/\nb\nservice-accounts/\n", Encoding.UTF8.GetString(MetadataRenderer.Listing(tree).Body));
    }
}
