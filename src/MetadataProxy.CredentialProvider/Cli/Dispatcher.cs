using System.Text;
using System.Text.Json;
using MetadataProxy.CredentialProvider.Docker;
using MetadataProxy.CredentialProvider.Install;
using MetadataProxy.CredentialProvider.Json;
using MetadataProxy.CredentialProvider.Kubelet;
using MetadataProxy.CredentialProvider.Registries;
using MetadataProxy.CredentialProvider.Tokens;

namespace MetadataProxy.CredentialProvider.Cli;

/// <summary>Runs one invocation under one deadline and turns its outcome into stdout, stderr and an exit code.</summary>
internal static class Dispatcher
{
    /// <summary>Every network wait shares this budget; the kubelet allows a minute but a pull should not wait on us.</summary>
    public static readonly TimeSpan NetworkDeadline = TimeSpan.FromSeconds(8);

    /// <summary>The promise to the caller: an answer or a reason within 10 s, even if standard input never closes.</summary>
    public static readonly TimeSpan ProcessDeadline = TimeSpan.FromSeconds(9);

    /// <summary>
    /// Both deadlines run on <paramref name="time"/>: <see cref="TimeProvider.System"/> in the binary (the runtime's
    /// own timer queue, as before, so no start cost), a fake clock in the tests. Nothing else in the plugin reads a
    /// clock: a token's lifetime is the server's relative <c>expires_in</c>.
    /// </summary>
    public static async Task<int> RunAsync(
        string programName, string[] args, Func<string, string?> environment, Stream input, Stream output, TextWriter error, TimeProvider time)
    {
        var invocation = CommandLine.Parse(programName, args);
        if (!invocation.Succeeded)
            return await ReportAsync(invocation.Failure, dockerProtocol: ProgramName.IsDockerHelper(programName), output, error);

        using var deadline = new CancellationTokenSource(NetworkDeadline, time);
        var work = ExecuteAsync(invocation.Value, environment, input, deadline.Token);
        // The process deadline is for a read that ignores its token (a console stdin left open blocks in read(2)).
        if (await Task.WhenAny(work, Task.Delay(ProcessDeadline, time, CancellationToken.None)) != work)
            return await ReportAsync(Failure.Refused($"gave up after {ProcessDeadline.TotalSeconds:0} s (is standard input left open?)"), invocation.Value.Command == CommandKind.DockerCredential, output, error);

        var outcome = await work;
        if (!outcome.Succeeded)
            return await ReportAsync(outcome.Failure, invocation.Value.Command == CommandKind.DockerCredential, output, error);

        await output.WriteAsync(Encoding.UTF8.GetBytes(outcome.Value));
        await output.FlushAsync();
        return ExitCodes.Ok;
    }

    private static async Task<Result<string>> ExecuteAsync(Invocation invocation, Func<string, string?> environment, Stream input, CancellationToken cancellationToken)
    {
        switch (invocation.Command)
        {
            case CommandKind.Help:
                return Result<string>.Success(CommandLine.Usage + "\n");

            case CommandKind.Install:
                return Installer.Run(invocation.Directory!, Installer.SelfExecutable, Environment.ProcessPath);

            case CommandKind.GetCredentials:
            {
                var patterns = RegistryPatterns.Build(invocation.Registries ?? [], environment(RegistryPatterns.EnvironmentVariable));
                if (!patterns.Succeeded)
                    return patterns.Failure;
                var stdin = await BoundedInput.ReadAsync(input, cancellationToken);
                if (!stdin.Succeeded)
                    return stdin.Failure;
                var socket = invocation.SocketPath ?? NonEmpty(environment(TokenEndpoint.SocketEnvironmentVariable)) ?? TokenEndpoint.DefaultSocketPath;
                var response = await new GetCredentialsCommand(TokenEndpoint.NodeSocket(socket), patterns.Value).RunAsync(stdin.Value, cancellationToken);
                return response.Succeeded
                    ? Result<string>.Success(JsonSerializer.Serialize(response.Value, ProviderJsonContext.Default.CredentialProviderResponse) + "\n")
                    : response.Failure;
            }

            default:
            {
                var patterns = RegistryPatterns.Build([], environment(RegistryPatterns.EnvironmentVariable));
                if (!patterns.Succeeded)
                    return patterns.Failure;
                var endpoint = DockerEndpoint(environment);
                if (!endpoint.Succeeded)
                    return endpoint.Failure;
                var verb = invocation.Verb!;
                var stdin = DockerHelperCommand.ReadsInput(verb) ? await BoundedInput.ReadAsync(input, cancellationToken) : Result<byte[]>.Success([]);
                if (!stdin.Succeeded)
                    return stdin.Failure;
                return await new DockerHelperCommand(patterns.Value, endpoint.Value).RunAsync(verb, stdin.Value, cancellationToken);
            }
        }
    }

    /// <summary>On a node (the socket file exists) the node identity; in a pod or on a laptop, the metadata API.</summary>
    private static Result<TokenEndpoint> DockerEndpoint(Func<string, string?> environment)
    {
        var socket = NonEmpty(environment(TokenEndpoint.SocketEnvironmentVariable)) ?? TokenEndpoint.DefaultSocketPath;
        if (File.Exists(socket))
            return Result<TokenEndpoint>.Success(TokenEndpoint.NodeSocket(socket));

        var metadataHost = environment(TokenEndpoint.MetadataHostEnvironmentVariable);
        return TokenEndpoint.MetadataApi(metadataHost) is { } api
            ? Result<TokenEndpoint>.Success(api)
            : Failure.BadInput($"{TokenEndpoint.MetadataHostEnvironmentVariable}='{metadataHost}' is not host[:port]");
    }

    private static string? NonEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value;

    /// <summary>
    /// One line on stderr for people and the kubelet's log. A Docker helper also prints the bare reason on stdout:
    /// that is where Docker reads it ("credentials not found in native keychain" must match to the letter).
    /// </summary>
    private static async Task<int> ReportAsync(Failure failure, bool dockerProtocol, Stream output, TextWriter error)
    {
        var line = ErrorLine.Format(failure.Message);
        if (dockerProtocol)
        {
            await output.WriteAsync(Encoding.UTF8.GetBytes(line + "\n"));
            await output.FlushAsync();
        }

        await error.WriteLineAsync(ErrorLine.Prefix + line);
        await error.FlushAsync();
        return failure.ExitCode;
    }
}
