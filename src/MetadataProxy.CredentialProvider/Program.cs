using MetadataProxy.CredentialProvider.Cli;

// One executable, three faces: the kubelet's credential provider plugin (get-credentials), the Docker credential
// helper (by the name docker-credential-metadataproxy, or the docker-credential sub-command), and its own installer.
// Nothing is initialised before the arguments are read: the kubelet execs this on every cache miss.
return await Dispatcher.RunAsync(
    ProgramName.FromCommandLine(),
    args,
    Environment.GetEnvironmentVariable,
    Console.OpenStandardInput(),
    Console.OpenStandardOutput(),
    Console.Error,
    TimeProvider.System);
