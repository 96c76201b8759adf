namespace MetadataProxy.PullSecrets;

/// <summary>Why an account is <see cref="PullSecretState.Refused"/>: it decides when the account is looked at again.</summary>
internal enum PullSecretRefusal
{
    None,

    /// <summary>An annotation cannot be honoured; its fix is an account change, which the watch brings.</summary>
    AnnotationInvalid,

    /// <summary>A Secret the controller does not manage has the name; its removal is seen only by looking again.</summary>
    NameTaken,
}
