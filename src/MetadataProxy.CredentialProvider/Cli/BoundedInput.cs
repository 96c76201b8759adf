namespace MetadataProxy.CredentialProvider.Cli;

/// <summary>Reads standard input whole, up to a cap: a runaway writer must get a clear refusal, not an out-of-memory kill.</summary>
internal static class BoundedInput
{
    public const int MaxBytes = 1024 * 1024;

    public static async Task<Result<byte[]>> ReadAsync(Stream input, CancellationToken cancellationToken)
    {
        // A request is a few hundred bytes (a KSA token is ~1 KiB): start small, grow only for odd input.
        var buffer = new byte[8 * 1024];
        var length = 0;
        while (true)
        {
            if (length == buffer.Length)
            {
                if (length > MaxBytes)
                    return Failure.BadInput($"standard input is larger than {MaxBytes / 1024 / 1024} MiB");
                Array.Resize(ref buffer, Math.Min(buffer.Length * 2, MaxBytes + 1));
            }

            var read = await input.ReadAsync(buffer.AsMemory(length), cancellationToken);
            if (read == 0)
                return Result<byte[]>.Success(buffer[..length]);
            length += read;
        }
    }
}
