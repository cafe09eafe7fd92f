//! CTAP 2.1 §8.2 status codes the virtual key answers with.

/// A CTAP status code (CTAP 2.1 §8.2 "Status codes"); the first byte of every reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum Status {
    Ok = 0x00,
    InvalidCommand = 0x01,
    InvalidParameter = 0x02,
    InvalidLength = 0x03,
    CborUnexpectedType = 0x11,
    InvalidCbor = 0x12,
    MissingParameter = 0x14,
    FingerprintDatabaseFull = 0x17,
    CredentialExcluded = 0x19,
    UnsupportedAlgorithm = 0x26,
    KeyStoreFull = 0x28,
    UnsupportedOption = 0x2b,
    InvalidOption = 0x2c,
    NoCredentials = 0x2e,
    UserActionTimeout = 0x2f,
    NotAllowed = 0x30,
    PinInvalid = 0x31,
    PinBlocked = 0x32,
    PinAuthInvalid = 0x33,
    PinAuthBlocked = 0x34,
    PinNotSet = 0x35,
    PuatRequired = 0x36,
    PinPolicyViolation = 0x37,
    RequestTooLarge = 0x39,
    UvBlocked = 0x3c,
    InvalidSubcommand = 0x3e,
    UvInvalid = 0x3f,
    UnauthorizedPermission = 0x40,
    Other = 0x7f,
}

/// Result of one step of a command: the error side is the status byte to answer with.
pub(crate) type CtapResult<T> = Result<T, Status>;
