namespace MetadataProxy.EndToEnd.Iptables;

/// <summary>The two kernel interfaces iptables can drive; a node's rules live in one of them.</summary>
public enum IptablesBackend
{
    Nft,
    Legacy,
}
