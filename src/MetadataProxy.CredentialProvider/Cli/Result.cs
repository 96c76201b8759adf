using System.Diagnostics.CodeAnalysis;

namespace MetadataProxy.CredentialProvider.Cli;

/// <summary>A value or the <see cref="Failure"/> that prevented it: expected failures travel as values, never as exceptions.</summary>
internal readonly struct Result<T>
{
    private Result(T? value, Failure? failure)
    {
        Value = value;
        Failure = failure;
    }

    public T? Value { get; }

    public Failure? Failure { get; }

    [MemberNotNullWhen(false, nameof(Failure))]
    [MemberNotNullWhen(true, nameof(Value))]
    public bool Succeeded => Failure is null;

    public static Result<T> Success(T value) => new(value, null);

    public static Result<T> Fail(Failure failure) => new(default, failure);

    public static implicit operator Result<T>(Failure failure) => Fail(failure);
}
