namespace MetadataProxy.Hosting;

/// <summary><c>Listen:Metadata</c> and <c>Listen:Admin</c>: one or more <c>http://address:port</c> URLs separated by ';'.</summary>
internal sealed class ListenerOptions
{
    public const string Section = "Listen";

    public string? Metadata { get; set; }

    public string? Admin { get; set; }
}
