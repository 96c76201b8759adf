namespace MetadataProxy.TestServers.Google;

public enum IamMethod
{
    GenerateAccessToken,
    GenerateIdToken,

    /// <summary>Any other verb (signBlob, signJwt …): answered 404.</summary>
    Other,
}
