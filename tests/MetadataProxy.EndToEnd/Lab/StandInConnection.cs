namespace MetadataProxy.EndToEnd.Lab;

/// <summary>One connection a <see cref="StandInServer"/> accepted: who it came from (as the socket saw it) and what it sent.</summary>
public sealed record StandInConnection(IPAddress RemoteAddress, string Received);
