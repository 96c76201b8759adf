using System.Diagnostics;
using System.Globalization;
using MetadataProxy.TestServers.Google;
using MetadataProxy.TestServers.Kubernetes;

namespace MetadataProxy.Benchmarks.ColdPath;

/// <summary>
/// The floor's calls made from another process pinned to the server's core (<c>coldpath-floor</c>): the driver writes
/// one pod a line (<c>namespace name uid gsa</c>) and reads back the milliseconds of TokenRequest, STS, IAM and all three.
/// </summary>
internal sealed class FloorProcess(Process process) : IDisposable
{
    public static FloorProcess Start(string core, KubernetesTestServer kube, GoogleTestServer google)
    {
        var info = new ProcessStartInfo("taskset") { RedirectStandardInput = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var argument in new[]
        {
            "-c", core, Floors.FloorsBenchmark.Dotnet(), typeof(FloorProcess).Assembly.Location, "coldpath-floor",
            kube.BaseAddress.ToString(), kube.BearerToken, google.StsTokenUrl.ToString(), google.IamCredentialsBaseUrl.ToString(),
        })
        {
            info.ArgumentList.Add(argument);
        }

        return new FloorProcess(Process.Start(info) ?? throw new InvalidOperationException("the floor process did not start"));
    }

    public async Task<(double TokenRequest, double Sts, double Iam, double Total)> RunAsync(ColdPod pod)
    {
        await process.StandardInput.WriteLineAsync($"{pod.Namespace} {pod.Name} {pod.Uid} {pod.GoogleServiceAccount}");
        await process.StandardInput.FlushAsync();
        var line = await process.StandardOutput.ReadLineAsync() ?? throw new InvalidOperationException("the floor process closed its output (it exited)");
        var fields = line.Split(' ');
        if (fields[0] != "ok")
            throw new InvalidOperationException("floor: " + line);
        var ms = fields[1..].Select(f => double.Parse(f, CultureInfo.InvariantCulture)).ToArray();
        return (ms[0], ms[1], ms[2], ms[3]);
    }

    /// <summary>The child's side: <c>coldpath-floor KUBERNETES BEARER STS IAM</c>, one pod a line on stdin until it closes.</summary>
    public static async Task ServeAsync(string[] args)
    {
        using var floor = new UpstreamFloor(new Uri(args[0]), args[1], new Uri(args[2]), new Uri(args[3]));
        while (await Console.In.ReadLineAsync() is { } line)
        {
            var fields = line.Split(' ');
            try
            {
                var (tokenRequest, sts, iam, total) = await floor.RunAsync(new ColdPod(System.Net.IPAddress.None, fields[0], fields[1], fields[2], fields[3]));
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"ok {tokenRequest} {sts} {iam} {total}"));
            }
            catch (Exception e) when (e is InvalidOperationException or HttpRequestException)
            {
                Console.WriteLine("failed " + e.Message.ReplaceLineEndings(" "));
            }
        }
    }

    public void Dispose()
    {
        if (!process.HasExited)
        {
            process.StandardInput.Close();
            if (!process.WaitForExit(5000))
                process.Kill();
        }

        process.Dispose();
    }
}
