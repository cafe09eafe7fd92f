//! Loading a PKCS#11 module, and what it shows before anyone logs in: its slots and tokens.

use super::error::HsmError;
use super::token::Token;
use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::error::{Error as Cryptoki, RvError};
use cryptoki::slot::{Slot, TokenInfo};
use secrecy::SecretString;
use std::path::{Path, PathBuf};

/// A loaded and initialised PKCS#11 module (PKCS#11 v2.40 §5.4 `C_Initialize`).
///
/// Cloning is cheap and shares the module. The module stays loaded while any clone or any
/// [`Token`] opened from it lives. Loading the same module twice in one process is fine: the
/// second [`Module::open`] finds it initialised and shares its state, as PKCS#11 requires.
#[derive(Debug, Clone)]
pub struct Module {
    context: Pkcs11,
    path: PathBuf,
}

/// What the module says about itself (`C_GetInfo`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModuleInfo {
    /// The library's manufacturer, such as `SoftHSM`.
    pub manufacturer: String,
    /// The library's description, such as `Implementation of PKCS11`.
    pub description: String,
    /// The library's version, `major.minor`.
    pub version: String,
}

/// A slot (a reader, or a virtual slot of a network HSM) and the token in it, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlotSummary {
    /// The slot id. SoftHSM2 makes these random when a token is initialised: find tokens by
    /// label, not by slot id.
    pub id: u64,
    /// The slot's description.
    pub description: String,
    /// The token in the slot.
    pub token: Option<TokenSummary>,
}

/// A token as `C_GetTokenInfo` describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenSummary {
    /// The token's label (empty while uninitialised).
    pub label: String,
    /// Its manufacturer.
    pub manufacturer: String,
    /// Its model.
    pub model: String,
    /// Its serial number.
    pub serial: String,
    /// The token has been initialised (`CKF_TOKEN_INITIALIZED`).
    pub initialized: bool,
    /// The user PIN has been set (`CKF_USER_PIN_INITIALIZED`).
    pub user_pin_initialized: bool,
    /// Using its keys needs a login (`CKF_LOGIN_REQUIRED`).
    pub login_required: bool,
    /// Nothing can be written to it (`CKF_WRITE_PROTECTED`).
    pub write_protected: bool,
    /// The user PIN is locked (`CKF_USER_PIN_LOCKED`).
    pub user_pin_locked: bool,
    /// Free memory for private objects in bytes, where the token tells.
    pub free_private_memory: Option<usize>,
    /// Total memory for private objects in bytes, where the token tells.
    pub total_private_memory: Option<usize>,
    /// Free memory for public objects in bytes, where the token tells.
    pub free_public_memory: Option<usize>,
    /// Total memory for public objects in bytes, where the token tells.
    pub total_public_memory: Option<usize>,
}

impl TokenSummary {
    fn from_info(info: &TokenInfo) -> Self {
        Self {
            label: info.label().to_owned(),
            manufacturer: info.manufacturer_id().to_owned(),
            model: info.model().to_owned(),
            serial: info.serial_number().to_owned(),
            initialized: info.token_initialized(),
            user_pin_initialized: info.user_pin_initialized(),
            login_required: info.login_required(),
            write_protected: info.write_protected(),
            user_pin_locked: info.user_pin_locked(),
            free_private_memory: info.free_private_memory(),
            total_private_memory: info.total_private_memory(),
            free_public_memory: info.free_public_memory(),
            total_public_memory: info.total_public_memory(),
        }
    }
}

impl Module {
    /// Loads the PKCS#11 library at `path` and initialises it for use from several threads.
    ///
    /// A bare file name (no `/`) is left to the dynamic loader's search path.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, HsmError> {
        let path = path.as_ref().to_path_buf();
        if path.components().count() > 1 {
            match path.try_exists() {
                Ok(true) => {}
                Ok(false) => return Err(HsmError::ModuleNotFound { path }),
                Err(error) => {
                    return Err(HsmError::ModuleNotLoadable {
                        path,
                        reason: error.to_string(),
                    });
                }
            }
        }
        let context = Pkcs11::new(&path).map_err(|error| match error {
            Cryptoki::LibraryLoading(error) => HsmError::ModuleNotLoadable {
                path: path.clone(),
                reason: error.to_string(),
            },
            Cryptoki::MissingSymbol(_) => HsmError::NotPkcs11Module { path: path.clone() },
            other => HsmError::from_cryptoki(other),
        })?;
        match context.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK)) {
            // Another `Module` in this process initialised it already; PKCS#11 state is per
            // process, so sharing it is exactly right.
            Ok(()) | Err(Cryptoki::Pkcs11(RvError::CryptokiAlreadyInitialized, _)) => {}
            Err(Cryptoki::Pkcs11(rv, _)) => return Err(HsmError::ModuleInitFailed { path, rv }),
            Err(other) => return Err(HsmError::from_cryptoki(other)),
        }
        Ok(Self { context, path })
    }

    /// The path the module was loaded from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// What the module says about itself.
    pub fn info(&self) -> Result<ModuleInfo, HsmError> {
        let info = self
            .context
            .get_library_info()
            .map_err(HsmError::from_cryptoki)?;
        let version = info.library_version();
        Ok(ModuleInfo {
            manufacturer: info.manufacturer_id().to_owned(),
            description: info.library_description().to_owned(),
            version: format!("{}.{}", version.major(), version.minor()),
        })
    }

    /// Every slot, with its token where one is present.
    pub fn slots(&self) -> Result<Vec<SlotSummary>, HsmError> {
        let slots = self
            .context
            .get_all_slots()
            .map_err(HsmError::from_cryptoki)?;
        let mut summaries = Vec::with_capacity(slots.len());
        for slot in slots {
            let info = self
                .context
                .get_slot_info(slot)
                .map_err(HsmError::from_cryptoki)?;
            let token = if info.token_present() {
                let token = self
                    .context
                    .get_token_info(slot)
                    .map_err(HsmError::from_cryptoki)?;
                Some(TokenSummary::from_info(&token))
            } else {
                None
            };
            summaries.push(SlotSummary {
                id: slot.id(),
                description: info.slot_description().to_owned(),
                token,
            });
        }
        Ok(summaries)
    }

    /// Finds the token labelled `label` and logs in to it as the user (PKCS#11 v2.40 §5.6
    /// `C_Login`), giving a [`Token`] ready for key operations.
    ///
    /// PKCS#11 login state belongs to the process, not the session: while one [`Token`] of this
    /// process is logged in, a second login to the same token succeeds without the module
    /// checking the PIN again (`CKR_USER_ALREADY_LOGGED_IN`).
    pub fn login(&self, label: &str, pin: &SecretString) -> Result<Token, HsmError> {
        let (slot, info) = self.find_token(label)?;
        if info.user_pin_locked() {
            return Err(HsmError::PinLocked);
        }
        Token::login(self.clone(), slot, info.label().to_owned(), pin)
    }

    /// The one slot whose token carries `label`, and its token's description.
    pub(crate) fn find_token(&self, label: &str) -> Result<(Slot, TokenInfo), HsmError> {
        let mut found = Vec::new();
        let mut available = Vec::new();
        for slot in self
            .context
            .get_slots_with_token()
            .map_err(HsmError::from_cryptoki)?
        {
            let info = self
                .context
                .get_token_info(slot)
                .map_err(HsmError::from_cryptoki)?;
            if info.label() == label {
                found.push((slot, info));
            } else if info.token_initialized() {
                available.push(info.label().to_owned());
            }
        }
        match found.len() {
            0 => Err(HsmError::TokenNotFound {
                label: label.to_owned(),
                available,
            }),
            1 => {
                let (slot, info) = found.remove(0);
                if info.token_initialized() && info.user_pin_initialized() {
                    Ok((slot, info))
                } else {
                    Err(HsmError::TokenNotInitialized {
                        label: label.to_owned(),
                    })
                }
            }
            count => Err(HsmError::AmbiguousToken {
                label: label.to_owned(),
                count,
            }),
        }
    }

    pub(crate) fn context(&self) -> &Pkcs11 {
        &self.context
    }
}
