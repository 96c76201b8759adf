namespace MetadataProxy.Hosting;

/// <summary>
/// Something the server needs before it may take pods' traffic: the metadata listeners are bound only once every
/// precondition holds (<see cref="ListenSockets"/>). During an upgrade the kernel sends new connections to every socket
/// bound on the port, so a new server that bound before it could answer would fail the pods it was sent.
/// </summary>
internal sealed record ServingPrecondition(string Description, Func<bool> IsMet);
