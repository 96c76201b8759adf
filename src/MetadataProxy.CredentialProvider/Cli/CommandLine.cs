namespace MetadataProxy.CredentialProvider.Cli;

/// <summary>
/// Parses argv. The kubelet passes the provider's configured args; Docker passes one verb to a binary named
/// docker-credential-NAME. Nothing else is accepted, so a typo fails loudly instead of silently pulling anonymously.
/// </summary>
internal static class CommandLine
{
    public const string Usage =
        """
        usage: metadata-proxy-credential-provider get-credentials [--socket PATH] [--registry PATTERN]...
               metadata-proxy-credential-provider docker-credential <get|list|store|erase|version>
               metadata-proxy-credential-provider install DIR
               docker-credential-metadataproxy <get|list|store|erase|version>
        """;

    public static Result<Invocation> Parse(string programName, IReadOnlyList<string> args)
    {
        if (ProgramName.IsDockerHelper(programName))
            return DockerVerb(args, 0);
        if (args.Count == 0)
            return Failure.BadInput($"no command given; see --help");

        return args[0] switch
        {
            "get-credentials" => GetCredentials(args),
            "docker-credential" => DockerVerb(args, 1),
            "install" when args.Count == 2 && args[1].Length > 0 => Result<Invocation>.Success(new Invocation(CommandKind.Install, Directory: args[1])),
            "install" => Failure.BadInput("install takes exactly one argument: the directory to install into"),
            "help" or "--help" or "-h" => Result<Invocation>.Success(new Invocation(CommandKind.Help)),
            var other => Failure.BadInput($"unknown command '{other}'; see --help"),
        };
    }

    private static Result<Invocation> DockerVerb(IReadOnlyList<string> args, int at)
    {
        if (args.Count != at + 1)
            return Failure.BadInput("a Docker credential helper takes exactly one argument: get, list, store, erase or version");
        return Result<Invocation>.Success(new Invocation(CommandKind.DockerCredential, Verb: args[at]));
    }

    private static Result<Invocation> GetCredentials(IReadOnlyList<string> args)
    {
        string? socket = null;
        var registries = new List<string>();
        for (var i = 1; i < args.Count; i++)
        {
            var (name, value) = SplitOption(args[i]);
            if (name is not ("--socket" or "--registry"))
                return Failure.BadInput($"get-credentials: unknown argument '{args[i]}'; see --help");
            if (value is null)
            {
                if (i + 1 == args.Count)
                    return Failure.BadInput($"get-credentials: {name} needs a value");
                value = args[++i];
            }

            if (name == "--socket")
                socket = value;
            else
                registries.Add(value);
        }

        return Result<Invocation>.Success(new Invocation(CommandKind.GetCredentials, SocketPath: socket, Registries: registries));
    }

    private static (string Name, string? Value) SplitOption(string arg)
    {
        var equals = arg.IndexOf('=', StringComparison.Ordinal);
        return equals < 0 ? (arg, null) : (arg[..equals], arg[(equals + 1)..]);
    }
}
