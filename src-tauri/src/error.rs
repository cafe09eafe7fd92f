//! What a command answers when it fails: a stable code the UI translates, the English message,
//! and what to do. Never a secret, never a stack.

use serde::Serialize;

/// A failed command, as the UI receives it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[error("{message}")]
pub struct CommandError {
    /// Stable, for the UI's message catalogue (`vault.wrong_key`, `key.none_found`, …).
    pub code: String,
    /// In English, for logs and as the UI's fallback.
    pub message: String,
    /// What the person can do about it.
    pub recommendation: Option<String>,
}

impl CommandError {
    /// An error with a code and message.
    pub fn new(code: &str, message: impl Into<String>) -> Self {
        Self {
            code: code.to_owned(),
            message: message.into(),
            recommendation: None,
        }
    }

    /// Adds what to do.
    pub fn recommend(mut self, recommendation: impl Into<String>) -> Self {
        self.recommendation = Some(recommendation.into());
        self
    }
}

impl From<schild_vault::Error> for CommandError {
    fn from(error: schild_vault::Error) -> Self {
        use schild_vault::Error as E;
        let (code, recommendation) = match &error {
            E::NoSuchVault(_) => ("vault.not_created", Some("Create the vault first.")),
            E::VaultExists(_) => ("vault.exists", Some("Unlock the existing vault instead.")),
            E::NoSuchItem(_) => ("vault.no_such_item", None),
            E::ItemExists(_) => (
                "vault.item_exists",
                Some("Choose another name, or replace the item."),
            ),
            E::NoSuchUnlockMethod(_) => ("vault.no_such_method", None),
            E::UnlockMethodExists(_) => ("vault.method_exists", Some("Choose another id.")),
            E::LastUnlockMethod => (
                "vault.last_method",
                Some("Add another unlock method before removing this one."),
            ),
            E::WrongUnlockKey => (
                "vault.wrong_key",
                Some("Check the passphrase, or use another unlock method."),
            ),
            E::InvalidName { .. } => ("vault.invalid_input", None),
            E::Locked => ("vault.locked", Some("Unlock the vault again.")),
            E::Crypto(_) | E::Corrupt(_) => (
                "vault.damaged",
                Some("Restore the vault database from a backup; nothing was changed."),
            ),
            _ => ("vault.storage", Some("Check the disk and try again.")),
        };
        let error_text = error.to_string();
        let made = Self::new(code, error_text);
        match recommendation {
            Some(text) => made.recommend(text),
            None => made,
        }
    }
}

impl From<schild_hwkey::ctap::KeyError> for CommandError {
    fn from(error: schild_hwkey::ctap::KeyError) -> Self {
        Self::new(error.code(), error.to_string()).recommend(error.recommendation())
    }
}
