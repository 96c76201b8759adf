using System.Text;
using MetadataProxy.Tokens;

namespace MetadataProxy.UnitTests.Tokens;

/// <summary>The exp of a JWT Google signed: whatever its payload holds, a date or none, never an exception.</summary>
public sealed class JwtExpiryTests
{
    [Theory]
    [InlineData("""{"exp":1796108400}""", 1796108400L)]
    [InlineData("""{"exp":253402300799}""", 253402300799L)] // the last second of year 9999
    [InlineData("""{"exp":-62135596800}""", -62135596800L)] // the first second of year 1
    public void Read_WholeSecondsADateCanHold_IsThatDate(string payload, long seconds) =>
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(seconds), JwtExpiry.Read(Jwt(payload)));

    [Theory]
    [InlineData("""{"exp":253402300800}""")] // one second past year 9999
    [InlineData("""{"exp":-62135596801}""")]
    [InlineData("""{"exp":99999999999999999999}""")] // not even a long
    [InlineData("""{"exp":1796108400.5}""")]
    [InlineData("""{"exp":"1796108400"}""")]
    [InlineData("""{"exp":null}""")]
    [InlineData("""{"aud":"x"}""")]
    [InlineData("""[{"exp":1796108400}]""")]
    [InlineData("1796108400")]
    [InlineData("not json")]
    public void Read_PayloadWithoutAUsableExp_IsNull(string payload) => Assert.Null(JwtExpiry.Read(Jwt(payload)));

    [Theory]
    [InlineData("not-a-jwt")]
    [InlineData("a.b")]
    [InlineData("eyJ9.%%%.c2ln")]
    [InlineData("")]
    public void Read_NotACompactJws_IsNull(string token) => Assert.Null(JwtExpiry.Read(token));

    private static string Jwt(string payload) => $"{B64("""{"alg":"RS256"}""")}.{B64(payload)}.c2ln";

    private static string B64(string text) => Convert.ToBase64String(Encoding.UTF8.GetBytes(text)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
