using System.Globalization;

namespace MetadataProxy.Benchmarks.ColdPath;

/// <summary>Latencies in milliseconds, read by nearest rank.</summary>
internal sealed class Distribution(IEnumerable<double> milliseconds)
{
    private readonly double[] _sorted = [.. milliseconds.Order()];

    public double P50 => At(0.50);

    public double P90 => At(0.90);

    public double P99 => At(0.99);

    public double Mean => _sorted.Length == 0 ? double.NaN : _sorted.Average();

    public string Row(string name) => string.Create(CultureInfo.InvariantCulture,
        $"{name,-44} {P50,8:0.00} {P90,8:0.00} {P99,8:0.00} {Mean,8:0.00}");

    public static string Header => $"{"ms",-44} {"p50",8} {"p90",8} {"p99",8} {"mean",8}";

    private double At(double quantile) =>
        _sorted.Length == 0 ? double.NaN : _sorted[Math.Clamp((int)Math.Ceiling(quantile * _sorted.Length) - 1, 0, _sorted.Length - 1)];
}
