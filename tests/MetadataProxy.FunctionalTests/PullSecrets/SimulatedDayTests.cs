namespace MetadataProxy.FunctionalTests.PullSecrets;

/// <summary>Issue 13, acceptance: over a day of a fake clock, with Google outages, no Secret ever holds a token with less than 5 minutes left.</summary>
public sealed class SimulatedDayTests
{
    private const string Ns = "apps";
    private static readonly TimeSpan Floor = TimeSpan.FromMinutes(5);

    [Fact]
    public async Task ADay_WithOutages_NoSecretEverHoldsATokenWithLessThanFiveMinutesLeft()
    {
        await using var lab = await PullSecretsLab.StartAsync();
        lab.Settings["PullSecrets:LeaseDuration"] = "00:20:00"; // few elector wake-ups in a day; the Lease is not what is tested here
        lab.Settings["PullSecrets:RenewDeadline"] = "00:10:00";
        lab.Settings["PullSecrets:RetryPeriod"] = "00:05:00";
        lab.Settings["PullSecrets:ResyncInterval"] = "00:10:00";
        const string Gsa = "builder@test-project.iam.gserviceaccount.com";
        lab.Google.AllowImpersonation(PullSecretsLab.PrincipalOf(Ns, "builder"), Gsa);
        lab.AddAccount(Ns, "builder", gsa: Gsa);
        lab.AddAccount(Ns, "plain");
        lab.AddAccount("other", "pkg", optIn: "europe-docker.pkg.dev");
        await lab.StartReplicaAsync("replica-a");
        await lab.SettleAsync();

        var start = lab.Time.GetUtcNow();
        var leastLeft = TimeSpan.MaxValue;
        var checks = 0;
        void Check()
        {
            var now = lab.Time.GetUtcNow();
            foreach (var secret in lab.Kube.Secrets())
            {
                var left = lab.Google.DescribeAccessToken(PullSecretsLab.TokenIn(secret)!)!.ExpiresAt - now;
                Assert.True(left >= Floor, $"{secret.Metadata.Name} held a token with {left} left at {now:O}");
                leastLeft = left < leastLeft ? left : leastLeft;
                checks++;
            }
        }

        // Each hour Google fails for a while at a different minute: STS for 12 minutes, or every fourth hour IAM
        // (impersonation) for 25; the controller must ride the outages out on the Secrets it already wrote.
        for (var hour = 0; hour < 24; hour++)
        {
            var outageStart = TimeSpan.FromMinutes(hour * 17 % 35);
            var outage = TimeSpan.FromMinutes(hour % 4 == 3 ? 25 : 12);
            await lab.AdvanceAsync(outageStart, Check);
            if (hour % 4 == 3)
                lab.Google.Iam.FailWith(500);
            else
                lab.Google.Sts.FailWith(503);
            await lab.AdvanceAsync(outage, Check);
            lab.Google.Sts.Clear();
            lab.Google.Iam.Clear();
            await lab.AdvanceAsync(TimeSpan.FromHours(1) - outageStart - outage, Check);
        }

        Assert.Equal(start.AddDays(1), lab.Time.GetUtcNow());
        Assert.Equal(3, lab.Kube.Secrets().Count);
        Assert.True(checks > 1000, $"only {checks} checks");
        Assert.True(leastLeft < TimeSpan.FromMinutes(25), $"the outages never bit: the least left was {leastLeft}"); // the test can fail
    }
}
