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
    public void A_6_Value_OfANode_IsRenderedOncePerFormat_AsTheValueItselfRenders()
    {
        // The hot path (an email, a project id): the node keeps each format's answer, body and ETag alike.
        var node = ValueNode.List(["tag-a", "tag-b"]);
        var json = MetadataRenderer.Value(node, MetadataFormat.Json);
        var text = MetadataRenderer.Value(node, alt: null);
        Assert.Same(json, MetadataRenderer.Value(node, MetadataFormat.Json));
        Assert.Same(text, MetadataRenderer.Value(node, MetadataFormat.Text));
        Assert.Equal(MetadataRenderer.Value(node.Value, MetadataFormat.Json).Body, json.Body);
        Assert.Equal(MetadataRenderer.Value(node.Value, alt: null).Body, text.Body);
        Assert.Equal("tag-a\ntag-b\n", Encoding.UTF8.GetString(text.Body));
        Assert.Equal(text.ETag, json.ETag); // the default rendering's ETag for both
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

    [Fact]
    public void AttributeMap_KeptAsSet_ListsAndRendersInThatOrder()
    {
        // The GKE node capture (spec/fixtures) lists cluster-name before cluster-location: the order they were set.
        var attributes = new OrderedDictionary<string, MetadataNode>(StringComparer.Ordinal)
        {
            ["cluster-name"] = ValueNode.Text("c"),
            ["cluster-location"] = ValueNode.Text("l"),
            ["Zeta"] = ValueNode.Text("z"),
            ["alpha"] = ValueNode.Text("a"),
        };
        var map = new DirectoryNode(attributes, KeyStyle.Free, keyOrder: KeyOrder.AsSet);
        var tree = new DirectoryNode(new Dictionary<string, MetadataNode> { ["attributes"] = map, ["id"] = ValueNode.Number("1") });

        Assert.Equal("cluster-name\ncluster-location\nZeta\nalpha\n", Encoding.UTF8.GetString(MetadataRenderer.Listing(map).Body));
        Assert.Equal("{\"attributes\":{\"cluster-name\":\"c\",\"cluster-location\":\"l\",\"Zeta\":\"z\",\"alpha\":\"a\"},\"id\":1}",
            Encoding.UTF8.GetString(MetadataRenderer.RecursiveJson(tree).Body));
        Assert.Equal("attributes/cluster-name c\nattributes/cluster-location l\nattributes/Zeta z\nattributes/alpha a\nid 1\n",
            Encoding.UTF8.GetString(MetadataRenderer.RecursiveText(tree).Body));
    }

    [Fact]
    public void AttributeMap_KeptAsSet_KeepsItsOrderWhenTheTreeIsCopied()
    {
        var attributes = new OrderedDictionary<string, MetadataNode>(StringComparer.Ordinal) { ["b"] = ValueNode.Text("1"), ["a"] = ValueNode.Text("2") };
        var copy = new DirectoryNode(attributes, KeyStyle.Free, keyOrder: KeyOrder.AsSet).With("0", ValueNode.Text("3"));
        Assert.Equal(KeyOrder.AsSet, copy.KeyOrder);
        Assert.Equal("b\na\n0\n", Encoding.UTF8.GetString(MetadataRenderer.Listing(copy).Body));
    }

    [Fact]
    public void Directory_OfApiKeys_IsListedOrdinallyWhateverTheInsertionOrder()
    {
        var directory = new DirectoryNode(new OrderedDictionary<string, MetadataNode> { ["zone"] = ValueNode.Text("z"), ["Id"] = ValueNode.Text("i"), ["attributes"] = DirectoryNode.Empty });
        Assert.Equal("Id\nattributes/\nzone\n", Encoding.UTF8.GetString(MetadataRenderer.Listing(directory).Body));
    }
}
