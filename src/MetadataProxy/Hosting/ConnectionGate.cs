using System.Net;

namespace MetadataProxy.Hosting;

/// <summary>
/// One listener's open connections, counted by source address (issue 9, rows 1 and 2): no source may hold more than
/// <paramref name="maxPerSource"/>, the listener no more than <paramref name="maxTotal"/>. Connections from the node
/// itself (the peer address is the address it dialled: the kubelet's probes, the readiness self-check) are exempt
/// from the listener's total where <paramref name="nodeExemptFromTotal"/> is set, so pods filling the admin port
/// cannot lock the probes out; they still count against their own source's cap.
/// </summary>
internal sealed class ConnectionGate(string listener, int maxTotal, int maxPerSource, bool nodeExemptFromTotal)
{
    private readonly Lock _lock = new();
    private readonly Dictionary<IPAddress, int> _bySource = [];
    private int _total;
    private int _open;

    public string Listener => listener;

    public int MaxPerSource => maxPerSource;

    public int MaxTotal => maxTotal;

    /// <summary>Connections open now, the node's own included.</summary>
    public int Open
    {
        get
        {
            lock (_lock)
                return _open;
        }
    }

    public ConnectionAdmission TryEnter(IPAddress source, bool fromNode)
    {
        var countsInTotal = !(fromNode && nodeExemptFromTotal);
        lock (_lock)
        {
            var held = _bySource.GetValueOrDefault(source);
            if (held >= maxPerSource)
                return ConnectionAdmission.SourceFull;
            if (countsInTotal && _total >= maxTotal)
                return ConnectionAdmission.ListenerFull;
            _bySource[source] = held + 1;
            _open++;
            if (countsInTotal)
                _total++;
            return ConnectionAdmission.Admitted;
        }
    }

    /// <summary>Releases what <see cref="TryEnter"/> admitted, with the same arguments.</summary>
    public void Leave(IPAddress source, bool fromNode)
    {
        var countsInTotal = !(fromNode && nodeExemptFromTotal);
        lock (_lock)
        {
            if (_bySource.GetValueOrDefault(source) <= 1)
                _bySource.Remove(source);
            else
                _bySource[source]--;
            _open--;
            if (countsInTotal)
                _total--;
        }
    }
}
