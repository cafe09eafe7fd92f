//! What can go wrong with an HSM, who is likely at fault, and what to do next.

use super::keys::{KeyKind, KeyUse};
use cryptoki::context::Function;
use cryptoki::error::{Error as Cryptoki, RvError};
use std::fmt;
use std::path::PathBuf;

/// Why an HSM operation failed. Each variant names one real failure; [`HsmError::recommendation`]
/// tells an operator what to do next. No variant ever carries a PIN or key material.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HsmError {
    /// There is no file at the module path: the PKCS#11 library is not installed, or the path is
    /// wrong. Installation or configuration.
    #[error("no PKCS#11 module at {}", path.display())]
    ModuleNotFound {
        /// The path that was tried.
        path: PathBuf,
    },

    /// The file exists but the dynamic loader refused it (another architecture, a missing
    /// dependency, no permission). Installation.
    #[error("cannot load the PKCS#11 module {}: {reason}", path.display())]
    ModuleNotLoadable {
        /// The path that was tried.
        path: PathBuf,
        /// The loader's explanation.
        reason: String,
    },

    /// The library loaded but exports neither `C_GetInterface` nor `C_GetFunctionList`, so it is
    /// not a PKCS#11 module. Configuration: the path names some other library.
    #[error("{} is not a PKCS#11 module (it exports no C_GetFunctionList)", path.display())]
    NotPkcs11Module {
        /// The path that was tried.
        path: PathBuf,
    },

    /// The module refused to start (`C_Initialize`), typically because its own configuration is
    /// missing or unreadable. Configuration of the module.
    #[error("the PKCS#11 module {} failed to start: {}", path.display(), Ckr(*rv))]
    ModuleInitFailed {
        /// The module.
        path: PathBuf,
        /// The module's return code.
        rv: RvError,
    },

    /// No token carries this label. Configuration, or the device is not connected.
    #[error(
        "no token is labelled {label:?} (tokens present: {})",
        list_or_none(available)
    )]
    TokenNotFound {
        /// The label asked for.
        label: String,
        /// Labels of the initialised tokens the module does show.
        available: Vec<String>,
    },

    /// Several tokens carry this label, so it names none of them. Configuration of the devices.
    #[error("{count} tokens are labelled {label:?}")]
    AmbiguousToken {
        /// The label.
        label: String,
        /// How many tokens carry it.
        count: usize,
    },

    /// The token, or its user PIN, has not been initialised yet. Provisioning.
    #[error("the token {label:?} is not initialised (or has no user PIN yet)")]
    TokenNotInitialized {
        /// The token's label.
        label: String,
    },

    /// The token refused the user PIN (`CKR_PIN_INCORRECT`). The person who typed it.
    #[error("wrong user PIN{}", retries.suffix())]
    WrongPin {
        /// What the token says about the tries left.
        retries: PinRetries,
    },

    /// The user PIN is locked after too many wrong tries (`CKR_PIN_LOCKED`). Needs the security
    /// officer.
    #[error("the user PIN is locked")]
    PinLocked,

    /// A key label was empty, too long, or held control characters. The caller.
    #[error("invalid key label: {reason}")]
    InvalidKeyLabel {
        /// What is wrong with it.
        reason: &'static str,
    },

    /// No key carries this label on the token. The caller, or the key was deleted.
    #[error("no key is labelled {label:?} on this token")]
    KeyNotFound {
        /// The label asked for.
        label: String,
    },

    /// A key with this label already exists, so generating another would make the label
    /// ambiguous. The caller.
    #[error("a key labelled {label:?} already exists on this token")]
    DuplicateLabel {
        /// The label.
        label: String,
    },

    /// Several keys of the same class carry this label (made outside Schild), so it names none of
    /// them. Whoever created the extra objects.
    #[error("{count} keys are labelled {label:?}; the label names none of them")]
    AmbiguousKey {
        /// The label.
        label: String,
        /// How many objects of one class carry it.
        count: usize,
    },

    /// The key exists but is of a kind that cannot do this (signing with an AES key, say). The
    /// caller.
    #[error(
        "the key {label:?} is {} but a {needed} key is needed",
        found_kind(found)
    )]
    WrongKeyKind {
        /// The key's label.
        label: String,
        /// What the operation needs.
        needed: KeyUse,
        /// What the key is (`None`: a kind Schild does not use).
        found: Option<KeyKind>,
    },

    /// The module does not offer a mechanism the operation needs (Ed25519 on an HSM without
    /// `CKM_EC_EDWARDS_KEY_PAIR_GEN`, say). The device's capabilities.
    #[error("the token does not support {mechanism}")]
    UnsupportedMechanism {
        /// The PKCS#11 mechanism, with what it is for.
        mechanism: &'static str,
    },

    /// Wrapping or unwrapping was asked with empty additional authenticated data. The caller; the
    /// request never reached the module (some modules, SoftHSM2 among them, crash on it).
    #[error("the additional authenticated data is empty; wrapping needs a context")]
    EmptyAad,

    /// The wrapped data failed AES-GCM authentication: it was altered, or the AAD differs from
    /// the one used to wrap it. Tampering, storage corruption, or a caller mixing up contexts.
    #[error("the wrapped data failed authentication (altered, or wrapped with another context)")]
    Unauthentic,

    /// The wrapped blob is truncated or in a format this version does not know. Storage, or a
    /// blob from a newer Schild.
    #[error("the wrapped blob is malformed: {reason}")]
    MalformedBlob {
        /// What is wrong with it.
        reason: &'static str,
    },

    /// A signature does not verify under the key. The message or signature was altered, or
    /// another key made it.
    #[error("the signature does not match the message and key")]
    BadSignature,

    /// The token returned key data Schild cannot read (an unexpected public point encoding, say).
    /// The module, or a key made by another tool.
    #[error("the key {label:?} holds data Schild cannot read: {reason}")]
    UnexpectedKeyData {
        /// The key's label.
        label: String,
        /// What was unexpected.
        reason: &'static str,
    },

    /// The token was removed or the device disconnected during the operation. The device or its
    /// connection.
    #[error("the token was removed or disconnected ({})", Ckr(*rv))]
    DeviceRemoved {
        /// The module's return code.
        rv: RvError,
    },

    /// The session broke: closed, invalid, logged out by another process, or left busy by an
    /// interrupted operation. Usually transient.
    #[error("the HSM session failed in {}: {}", c_name(*function), Ckr(*rv))]
    Session {
        /// The PKCS#11 function that failed.
        function: Function,
        /// The module's return code.
        rv: RvError,
    },

    /// The module or device failed in a way not listed above. The device, the module, or the
    /// token's state (full, write-protected, …).
    #[error("the HSM failed in {}: {}", c_name(*function), Ckr(*rv))]
    Device {
        /// The PKCS#11 function that failed.
        function: Function,
        /// The module's return code.
        rv: RvError,
    },

    /// The `cryptoki` binding failed outside the module (a value that does not fit, a missing
    /// function pointer). An incompatibility between Schild and this module.
    #[error("the PKCS#11 binding failed: {0}")]
    Binding(#[source] Cryptoki),
}

impl HsmError {
    /// What an operator should do next, in one sentence.
    pub fn recommendation(&self) -> &'static str {
        match self {
            Self::ModuleNotFound { .. } => {
                "Install the module (Debian: `apt install softhsm2` for SoftHSM2, `opensc` for a Nitrokey HSM, yubihsm-shell for a YubiHSM 2) or point --module / SCHILD_PKCS11_MODULE at it."
            }
            Self::ModuleNotLoadable { .. } => {
                "Check that the file is a shared library for this machine's architecture, readable by this user, and that its own dependencies are installed (`ldd PATH`)."
            }
            Self::NotPkcs11Module { .. } => {
                "Point --module / SCHILD_PKCS11_MODULE at the vendor's PKCS#11 library, such as /usr/lib/softhsm/libsofthsm2.so or /usr/lib/x86_64-linux-gnu/opensc-pkcs11.so."
            }
            Self::ModuleInitFailed { .. } => {
                "Check the module's own configuration (SoftHSM2: SOFTHSM2_CONF and its token directory; YubiHSM 2: yubihsm_pkcs11.conf and the connector)."
            }
            Self::TokenNotFound { .. } => {
                "Run `schild hsm slots` to see the tokens and their labels; connect the device, or initialise a token with the vendor's tool."
            }
            Self::AmbiguousToken { .. } => {
                "Give each token a distinct label with the vendor's tool, or disconnect the ones not meant here."
            }
            Self::TokenNotInitialized { .. } => {
                "Initialise the token and set its user PIN with the vendor's tool (softhsm2-util --init-token, sc-hsm-tool --initialize, yubihsm-shell)."
            }
            Self::WrongPin { .. } => {
                "Check the user PIN (SCHILD_HSM_PIN or the prompt); the token locks the PIN after a few wrong tries."
            }
            Self::PinLocked => {
                "Have the security officer unblock or reset the user PIN with the vendor's tool."
            }
            Self::InvalidKeyLabel { .. } => {
                "Use a label of 1 to 64 characters without control characters."
            }
            Self::KeyNotFound { .. } => {
                "Run `schild hsm keys --token LABEL` to see the keys, or create one with `schild hsm generate`."
            }
            Self::DuplicateLabel { .. } => "Pick another label; keys are never replaced silently.",
            Self::AmbiguousKey { .. } => {
                "Rename or delete all but one of these objects with the vendor's tool."
            }
            Self::WrongKeyKind { .. } => {
                "Use an AES-256 key to wrap and a P-256 or Ed25519 key to sign."
            }
            Self::UnsupportedMechanism { .. } => {
                "Choose another key kind, or an HSM (or firmware) that offers this mechanism."
            }
            Self::EmptyAad => {
                "Pass non-empty additional authenticated data, such as the id of the record the key belongs to."
            }
            Self::Unauthentic => {
                "Do not use this data: check that the same AAD is given as when wrapping, and restore the wrapped key from a backup if it was altered."
            }
            Self::MalformedBlob { .. } => {
                "Restore the wrapped key from a backup, or upgrade Schild if a newer version wrote it."
            }
            Self::BadSignature => {
                "Treat the message as unauthenticated: it, or its signature, was altered or signed by another key."
            }
            Self::UnexpectedKeyData { .. } => {
                "Generate the key with Schild, or report the module and its version so its encoding can be supported."
            }
            Self::DeviceRemoved { .. } => {
                "Reconnect the HSM (or restart its connector) and try again."
            }
            Self::Session { .. } => {
                "Try again; if it keeps failing, restart the process so it opens a fresh session and logs in again."
            }
            Self::Device { .. } => {
                "Check the HSM's health, free memory and logs, then retry; contact the vendor if it persists."
            }
            Self::Binding(_) => {
                "Report this with the module's name and version: Schild and this module disagree about the PKCS#11 interface."
            }
        }
    }

    /// Classifies a `cryptoki` error that the caller has no more specific reading for.
    pub(crate) fn from_cryptoki(error: Cryptoki) -> Self {
        match error {
            Cryptoki::Pkcs11(rv, function) => Self::from_rv(rv, function),
            other => Self::Binding(other),
        }
    }

    /// Classifies a module return code from `function`.
    pub(crate) fn from_rv(rv: RvError, function: Function) -> Self {
        match rv {
            RvError::PinIncorrect => Self::WrongPin {
                retries: PinRetries::Unknown,
            },
            RvError::PinLocked => Self::PinLocked,
            RvError::DeviceRemoved | RvError::TokenNotPresent => Self::DeviceRemoved { rv },
            RvError::SessionClosed
            | RvError::SessionHandleInvalid
            | RvError::SessionCount
            | RvError::UserNotLoggedIn
            | RvError::OperationActive
            | RvError::OperationNotInitialized => Self::Session { function, rv },
            _ => Self::Device { function, rv },
        }
    }
}

/// What a token says, after a wrong PIN, about the tries left (PKCS#11 only gives hints).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum PinRetries {
    /// The token gives no hint.
    Unknown,
    /// Few tries are left (`CKF_USER_PIN_COUNT_LOW`).
    Low,
    /// One more wrong PIN locks it (`CKF_USER_PIN_FINAL_TRY`).
    FinalTry,
}

impl PinRetries {
    fn suffix(self) -> &'static str {
        match self {
            Self::Unknown => "",
            Self::Low => " (few tries are left)",
            Self::FinalTry => " (one more wrong PIN locks it)",
        }
    }
}

/// A return code as operators search for it: `CKR_PIN_INCORRECT`, not the spec's paragraph.
struct Ckr(RvError);

impl fmt::Display for Ckr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            RvError::VendorDefined(code) => write!(f, "vendor-defined error {code:#x}"),
            RvError::UnknownErrorCode(code) => write!(f, "unknown error {code:#x}"),
            rv => f.write_str(&screaming_snake("CKR", &format!("{rv:?}"))),
        }
    }
}

/// A function as the standard names it: `C_Decrypt`.
fn c_name(function: Function) -> String {
    format!("C_{function:?}")
}

/// `GeneralError` → `CKR_GENERAL_ERROR`.
fn screaming_snake(prefix: &str, camel: &str) -> String {
    let mut out = String::from(prefix);
    for c in camel.chars() {
        if c.is_ascii_uppercase() {
            out.push('_');
        }
        out.push(c.to_ascii_uppercase());
    }
    out
}

fn list_or_none(labels: &[String]) -> String {
    if labels.is_empty() {
        "none".to_owned()
    } else {
        labels
            .iter()
            .map(|label| format!("{label:?}"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

fn found_kind(found: &Option<KeyKind>) -> String {
    match found {
        Some(kind) => {
            let name = kind.describe();
            let article = if name.starts_with(['A', 'E']) {
                "an"
            } else {
                "a"
            };
            format!("{article} {name} key")
        }
        None => "a key of a kind Schild does not use".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn return_codes_read_as_the_standard_names_them() {
        assert_eq!(Ckr(RvError::PinIncorrect).to_string(), "CKR_PIN_INCORRECT");
        assert_eq!(Ckr(RvError::GeneralError).to_string(), "CKR_GENERAL_ERROR");
        assert_eq!(c_name(Function::Decrypt), "C_Decrypt");
    }

    #[test]
    fn every_message_is_one_line_and_has_advice() {
        let errors = [
            HsmError::ModuleNotFound {
                path: "/nowhere/lib.so".into(),
            },
            HsmError::TokenNotFound {
                label: "x".into(),
                available: vec!["a".into(), "b".into()],
            },
            HsmError::WrongPin {
                retries: PinRetries::FinalTry,
            },
            HsmError::WrongKeyKind {
                label: "k".into(),
                needed: KeyUse::Signing,
                found: Some(KeyKind::Aes256),
            },
            HsmError::from_rv(RvError::DeviceError, Function::Sign),
        ];
        for error in errors {
            let message = error.to_string();
            assert!(!message.contains('\n'), "{message}");
            assert!(!error.recommendation().is_empty());
        }
    }

    #[test]
    fn messages_name_what_was_asked_for() {
        let missing = HsmError::ModuleNotFound {
            path: "/nowhere/lib.so".into(),
        };
        assert_eq!(missing.to_string(), "no PKCS#11 module at /nowhere/lib.so");
        let absent = HsmError::TokenNotFound {
            label: "vault".into(),
            available: vec![],
        };
        assert_eq!(
            absent.to_string(),
            "no token is labelled \"vault\" (tokens present: none)"
        );
        let wrong = HsmError::WrongKeyKind {
            label: "kek".into(),
            needed: KeyUse::Signing,
            found: Some(KeyKind::Aes256),
        };
        assert_eq!(
            wrong.to_string(),
            "the key \"kek\" is an AES-256 key but a signing key is needed"
        );
    }
}
