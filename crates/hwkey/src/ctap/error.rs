//! What can go wrong with a security key, for the person holding it.
//!
//! Every variant carries a stable machine code ([`KeyError::code`]) for UIs to branch on and a
//! recommendation ([`KeyError::recommendation`]) that says what to do next. No variant holds a PIN.

use webauthn_authenticator_rs::error::{CtapError, WebauthnCError};

/// Why a key operation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// No security key is connected (or none is reachable: permissions, no PC/SC service).
    #[error("no security key found")]
    NoKeyFound,
    /// More than one key is connected and the operation needs exactly one.
    #[error("{count} security keys are connected; choose one")]
    SeveralKeys {
        /// How many keys were found.
        count: usize,
    },
    /// The PIN was wrong; the user typed it, the key counted it.
    #[error("wrong PIN; {retries_left} attempts left before the key locks")]
    WrongPin {
        /// Attempts left before the PIN is blocked for good.
        retries_left: u32,
    },
    /// Every PIN attempt is used up; only a factory reset (which erases the key) helps.
    #[error("the PIN is blocked")]
    PinBlocked,
    /// Three wrong PINs in a row: the key refuses more attempts until it is unplugged.
    #[error("too many wrong PINs in a row; the key needs to be unplugged")]
    PinAuthBlocked,
    /// The new PIN is shorter than the key's or the organisation's minimum.
    #[error("the PIN is too short: at least {min} characters")]
    PinTooShort {
        /// The minimum length in characters (Unicode code points).
        min: usize,
    },
    /// The new PIN is longer than CTAP allows.
    #[error("the PIN is too long: at most {max} bytes")]
    PinTooLong {
        /// The maximum length in UTF-8 bytes.
        max: usize,
    },
    /// The key refused the new PIN under its own policy (for example a repeated or weak PIN).
    #[error("the key refused this PIN")]
    PinRejected,
    /// The key demands a PIN change before it can be used (after a minimum-length increase).
    #[error("the key requires a PIN change")]
    PinChangeRequired,
    /// The operation needs a PIN and the key has none yet.
    #[error("the key has no PIN")]
    PinNotSet,
    /// The operation needs a PIN and the caller gave none.
    #[error("this operation needs the key's PIN")]
    PinRequired,
    /// The key already has a PIN, so it can only be changed, not set.
    #[error("the key already has a PIN")]
    PinAlreadySet,
    /// The key asked for a touch (or a fingerprint) and nobody gave one in time.
    #[error("the key was not touched in time")]
    TouchTimedOut,
    /// The fingerprint did not match an enrolled one.
    #[error("fingerprint not recognised")]
    FingerprintNotRecognised,
    /// Built-in user verification is blocked after too many failed fingerprints.
    #[error("fingerprint verification is blocked")]
    UvBlocked,
    /// No fingerprint with this ID is enrolled.
    #[error("no such fingerprint on the key")]
    FingerprintNotFound,
    /// No discoverable credential with this ID is stored.
    #[error("no such credential on the key")]
    CredentialNotFound,
    /// The key's storage for credentials or fingerprints is full.
    #[error("the key's storage is full")]
    StorageFull,
    /// A fingerprint name is longer than the key accepts.
    #[error("the name is too long for this key")]
    NameTooLong,
    /// The key does not support this operation (for example fingerprints on a key without a sensor).
    #[error("this key does not support {operation}")]
    NotSupported {
        /// The operation, in words.
        operation: &'static str,
    },
    /// The key went away during the operation.
    #[error("the key was removed during the operation")]
    KeyRemoved,
    /// The key refused a factory reset because it was plugged in too long ago (CTAP 2.1 §6.6).
    #[error("a reset must be confirmed within seconds of plugging in the key")]
    ResetWindowPassed,
    /// The operating system denied access to the key.
    #[error("no permission to use the key")]
    PermissionDenied,
    /// The key refused the operation for a reason CTAP does not spell out.
    #[error("the key refused the operation")]
    OperationDenied,
    /// A credential or fingerprint id typed by the user is not well-formed (base64url for
    /// credentials, hexadecimal for fingerprints).
    #[error("that is not a valid {what} id")]
    InvalidId {
        /// `credential` or `fingerprint`.
        what: &'static str,
    },
    /// The key answered with a CTAP status this library does not expect here: a key or library bug.
    #[error("the key answered with CTAP status {status:#04x}")]
    Device {
        /// The CTAP status byte (CTAP 2.1 §8.2).
        status: u8,
    },
    /// The key does not offer the hmac-secret extension (CTAP 2.1 §12.5), or ignored it, so it
    /// cannot unlock a vault.
    #[error("this key cannot derive secrets (no hmac-secret extension)")]
    HmacSecretUnsupported,
    /// The key does not hold the vault credential: another key, or this key after a factory
    /// reset (which destroys the credential and every secret derived from it).
    #[error("this key does not hold the vault's credential")]
    HmacSecretCredentialMissing,
    /// Talking to the key failed below CTAP (USB, NFC, CBOR): a transport or library problem.
    #[error("communication with the key failed: {detail}")]
    Protocol {
        /// A technical description, without secrets.
        detail: String,
    },
}

impl KeyError {
    /// A stable, machine-readable code for this error.
    pub fn code(&self) -> &'static str {
        match self {
            Self::NoKeyFound => "key.none_found",
            Self::SeveralKeys { .. } => "key.several",
            Self::WrongPin { .. } => "key.pin.wrong",
            Self::PinBlocked => "key.pin.blocked",
            Self::PinAuthBlocked => "key.pin.power_cycle",
            Self::PinTooShort { .. } => "key.pin.too_short",
            Self::PinTooLong { .. } => "key.pin.too_long",
            Self::PinRejected => "key.pin.rejected",
            Self::PinChangeRequired => "key.pin.change_required",
            Self::PinNotSet => "key.pin.not_set",
            Self::PinRequired => "key.pin.required",
            Self::PinAlreadySet => "key.pin.already_set",
            Self::TouchTimedOut => "key.touch_timed_out",
            Self::FingerprintNotRecognised => "key.fingerprint.not_recognised",
            Self::UvBlocked => "key.fingerprint.blocked",
            Self::FingerprintNotFound => "key.fingerprint.not_found",
            Self::CredentialNotFound => "key.credential.not_found",
            Self::StorageFull => "key.storage_full",
            Self::NameTooLong => "key.name_too_long",
            Self::NotSupported { .. } => "key.not_supported",
            Self::KeyRemoved => "key.removed",
            Self::ResetWindowPassed => "key.reset.window_passed",
            Self::PermissionDenied => "key.permission_denied",
            Self::OperationDenied => "key.operation_denied",
            Self::InvalidId { .. } => "key.invalid_id",
            Self::HmacSecretUnsupported => "key.hmac_secret.unsupported",
            Self::HmacSecretCredentialMissing => "key.hmac_secret.credential_missing",
            Self::Device { .. } => "key.device_error",
            Self::Protocol { .. } => "key.protocol_error",
        }
    }

    /// What the user (or operator) should do next.
    pub fn recommendation(&self) -> &'static str {
        match self {
            Self::NoKeyFound => {
                "Plug in your security key (or hold it to the NFC reader) and try again. On Linux, \
                 install the udev rule so your user may access it."
            }
            Self::SeveralKeys { .. } => {
                "Unplug all security keys but the one you want to manage, or choose one."
            }
            Self::WrongPin { .. } => {
                "Check the PIN and try again. Every wrong PIN counts; when none are left the key \
                 must be reset, which erases it."
            }
            Self::PinBlocked => {
                "The PIN cannot be used any more. Reset the key to use it again: this erases all \
                 its credentials and fingerprints."
            }
            Self::PinAuthBlocked => "Unplug the key, plug it back in, and try again.",
            Self::PinTooShort { .. } => "Choose a longer PIN.",
            Self::PinTooLong { .. } => "Choose a shorter PIN.",
            Self::PinRejected => "Choose a different PIN; avoid simple or repeated digits.",
            Self::PinChangeRequired => "Change the key's PIN before using it.",
            Self::PinNotSet => "Set a PIN on the key first.",
            Self::PinRequired => "Enter the key's PIN.",
            Self::PinAlreadySet => "Use \"change PIN\" with the current PIN instead.",
            Self::TouchTimedOut => "Start again and touch the key when it blinks.",
            Self::FingerprintNotRecognised => "Try again with an enrolled finger, or use the PIN.",
            Self::UvBlocked => "Unlock fingerprint use by entering the key's PIN.",
            Self::FingerprintNotFound => "List the fingerprints and pick one that exists.",
            Self::CredentialNotFound => "List the credentials and pick one that exists.",
            Self::StorageFull => "Delete credentials or fingerprints you no longer need.",
            Self::NameTooLong => "Choose a shorter name.",
            Self::NotSupported { .. } => {
                "This key cannot do that; use a key that supports it (see the key's information)."
            }
            Self::KeyRemoved => "Plug the key back in and start the operation again.",
            Self::ResetWindowPassed => {
                "Unplug the key, plug it back in, and confirm the reset within 10 seconds, \
                 touching the key when it blinks."
            }
            Self::PermissionDenied => {
                "Allow your user to access security keys (on Linux: install the Schild udev rule \
                 and plug the key in again)."
            }
            Self::OperationDenied => "Check the key's settings, then try again.",
            Self::InvalidId { .. } => "Copy the id exactly as the list shows it.",
            Self::HmacSecretUnsupported => {
                "Use a FIDO2 key that supports hmac-secret (most current keys do), or another \
                 unlock method."
            }
            Self::HmacSecretCredentialMissing => {
                "Use the security key this vault was enrolled with. If that key was reset or \
                 lost, unlock with another method and enroll a key again."
            }
            Self::Device { .. } | Self::Protocol { .. } => {
                "Unplug the key, plug it back in and try again; if it persists, report it with the \
                 key's model and firmware version."
            }
        }
    }

    /// Maps a CTAP status a key answered with. PIN errors that need the retry count are mapped by
    /// the caller, which can ask the key.
    pub(crate) fn from_ctap(status: CtapError) -> Self {
        match status {
            CtapError::Ctap2PinInvalid => Self::WrongPin { retries_left: 0 },
            CtapError::Ctap2PinBlocked => Self::PinBlocked,
            CtapError::Ctap2PinAuthBlocked => Self::PinAuthBlocked,
            CtapError::Ctap2PinNotSet | CtapError::Ctap2PUATRequired => Self::PinNotSet,
            CtapError::Ctap2PinPolicyViolation => Self::PinRejected,
            CtapError::Ctap2UserActionTimeout
            | CtapError::Ctap2ActionTimeout
            | CtapError::Ctap1Timeout
            | CtapError::Ctap2KeepAliveCancel => Self::TouchTimedOut,
            CtapError::Ctap2UserVerificationInvalid => Self::FingerprintNotRecognised,
            CtapError::Ctap2UserVerificationBlocked => Self::UvBlocked,
            CtapError::Ctap2NoCredentials => Self::CredentialNotFound,
            CtapError::Ctap2KeyStoreFull | CtapError::Ctap2FingerprintDatabaseFull => {
                Self::StorageFull
            }
            CtapError::Ctap1InvalidCommand
            | CtapError::Ctap2UnsupportedOption
            | CtapError::Ctap2InvalidSubcommand
            | CtapError::Ctap2UnsupportedAlgorithm => Self::NotSupported {
                operation: "this command",
            },
            CtapError::Ctap2OperationDenied | CtapError::Ctap2NotAllowed => Self::OperationDenied,
            other => Self::Device {
                status: u8::from(other),
            },
        }
    }
}

impl From<WebauthnCError> for KeyError {
    fn from(error: WebauthnCError) -> Self {
        match error {
            WebauthnCError::Ctap(status) => Self::from_ctap(status),
            WebauthnCError::PinTooShort => Self::PinTooShort { min: 4 },
            WebauthnCError::PinTooLong => Self::PinTooLong { max: 63 },
            WebauthnCError::PinContainsNull => Self::PinRejected,
            WebauthnCError::UserVerificationRequired => Self::PinNotSet,
            WebauthnCError::NotSupported => Self::NotSupported {
                operation: "this operation",
            },
            WebauthnCError::FriendlyNameTooLong => Self::NameTooLong,
            WebauthnCError::Closed => Self::KeyRemoved,
            WebauthnCError::PermissionDenied | WebauthnCError::NoHidDevices => {
                Self::PermissionDenied
            }
            WebauthnCError::Cancelled => Self::PinRequired,
            #[cfg(feature = "usb")]
            WebauthnCError::HidError(hid) => match hid {
                fido_hid_rs::HidError::Closed => Self::KeyRemoved,
                fido_hid_rs::HidError::PermissionDenied => Self::PermissionDenied,
                other => Self::Protocol {
                    detail: other.to_string(),
                },
            },
            #[cfg(feature = "nfc")]
            WebauthnCError::PcscError(
                pcsc::Error::RemovedCard | pcsc::Error::NoSmartcard | pcsc::Error::ResetCard,
            ) => Self::KeyRemoved,
            other => Self::Protocol {
                detail: other.to_string(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_recommendations_present() {
        let all = [
            KeyError::NoKeyFound,
            KeyError::SeveralKeys { count: 2 },
            KeyError::WrongPin { retries_left: 3 },
            KeyError::PinBlocked,
            KeyError::PinAuthBlocked,
            KeyError::PinTooShort { min: 6 },
            KeyError::PinTooLong { max: 63 },
            KeyError::PinRejected,
            KeyError::PinChangeRequired,
            KeyError::PinNotSet,
            KeyError::PinRequired,
            KeyError::PinAlreadySet,
            KeyError::TouchTimedOut,
            KeyError::FingerprintNotRecognised,
            KeyError::UvBlocked,
            KeyError::FingerprintNotFound,
            KeyError::CredentialNotFound,
            KeyError::StorageFull,
            KeyError::NameTooLong,
            KeyError::NotSupported { operation: "x" },
            KeyError::KeyRemoved,
            KeyError::ResetWindowPassed,
            KeyError::PermissionDenied,
            KeyError::OperationDenied,
            KeyError::InvalidId { what: "credential" },
            KeyError::HmacSecretUnsupported,
            KeyError::HmacSecretCredentialMissing,
            KeyError::Device { status: 0x7f },
            KeyError::Protocol { detail: "x".into() },
        ];
        let mut codes = std::collections::HashSet::new();
        for error in &all {
            assert!(
                codes.insert(error.code()),
                "duplicate code {}",
                error.code()
            );
            assert!(!error.recommendation().is_empty());
        }
    }

    #[test]
    fn ctap_statuses_map_to_user_errors() {
        assert_eq!(
            KeyError::from(WebauthnCError::Ctap(CtapError::Ctap2PinAuthBlocked)),
            KeyError::PinAuthBlocked
        );
        assert_eq!(
            KeyError::from(WebauthnCError::Ctap(CtapError::Ctap2UserActionTimeout)),
            KeyError::TouchTimedOut
        );
        assert_eq!(
            KeyError::from(WebauthnCError::Ctap(CtapError::Ctap2IntegrityFailure)),
            KeyError::Device { status: 0x3d }
        );
        assert_eq!(
            KeyError::from(WebauthnCError::Ctap(CtapError::Unknown(0xee))),
            KeyError::Device { status: 0xee }
        );
    }
}
