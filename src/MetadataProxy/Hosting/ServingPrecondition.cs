namespace MetadataProxy.Hosting;

/// <summary>
/// Something the server needs before it may take pods' traffic: the metadata listeners are bound only once every
/// precondition holds (<see cref="ListenSockets"/>). During an upgrade the kernel sends new connections to every socket
/// bound on the port, so a new server that bound before it could answer would fail the pods it was sent.
/// <paramref name="WhenMet"/>, where given, completes once it holds: the bind follows at once instead of at the next
/// poll (issue 11: start → ready waits for nothing).
/// </summary>
internal sealed record ServingPrecondition(string Description, Func<bool> IsMet, Func<Task>? WhenMet = null);
