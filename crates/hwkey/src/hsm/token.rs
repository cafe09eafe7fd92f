//! A token the user has logged in to: one PKCS#11 session, shared safely between threads.

use super::error::{HsmError, PinRetries};
use super::module::Module;
use cryptoki::error::{Error as Cryptoki, RvError};
use cryptoki::mechanism::MechanismType;
use cryptoki::session::{Session, UserType};
use cryptoki::slot::Slot;
use secrecy::SecretString;
use std::sync::{Mutex, MutexGuard, PoisonError};

/// A token with the user logged in, ready to generate keys, wrap, unwrap and sign.
///
/// It holds one read-write session. PKCS#11 sessions must not be used from two threads at
/// once (v2.40 §6.7.7), so operations take turns through a mutex; that makes `Token` `Send +
/// Sync`, to share as `Arc<Token>`. Every call blocks on the device: from async code, call it
/// through `tokio::task::spawn_blocking`.
#[derive(Debug)]
pub struct Token {
    module: Module,
    slot: Slot,
    label: String,
    session: Mutex<Session>,
}

impl Token {
    pub(super) fn login(
        module: Module,
        slot: Slot,
        label: String,
        pin: &SecretString,
    ) -> Result<Self, HsmError> {
        let context = module.context();
        let session = context
            .open_rw_session(slot)
            .map_err(HsmError::from_cryptoki)?;
        match session.login(UserType::User, Some(pin)) {
            // The user is already logged in to this token from this process (login state is per
            // application, not per session): the process has the access it asks for.
            Ok(()) | Err(Cryptoki::Pkcs11(RvError::UserAlreadyLoggedIn, _)) => {}
            Err(Cryptoki::Pkcs11(
                RvError::PinIncorrect | RvError::PinInvalid | RvError::PinLenRange,
                _,
            )) => {
                return Err(HsmError::WrongPin {
                    retries: pin_retries(&module, slot),
                });
            }
            Err(Cryptoki::Pkcs11(RvError::UserPinNotInitialized, _)) => {
                return Err(HsmError::TokenNotInitialized { label });
            }
            Err(other) => return Err(HsmError::from_cryptoki(other)),
        }
        Ok(Self {
            module,
            slot,
            label,
            session: Mutex::new(session),
        })
    }

    /// The token's label.
    pub fn label(&self) -> &str {
        &self.label
    }

    /// The slot the token sits in (SoftHSM2 slot ids change when tokens are initialised).
    pub fn slot_id(&self) -> u64 {
        self.slot.id()
    }

    /// The module this token belongs to.
    pub fn module(&self) -> &Module {
        &self.module
    }

    /// Whether the token offers `mechanism` (`C_GetMechanismInfo`). Asked one mechanism at a
    /// time: `cryptoki` logs an error for every entry of `C_GetMechanismList` it has no name for.
    pub(super) fn offers(&self, mechanism: MechanismType) -> Result<bool, HsmError> {
        match self
            .module
            .context()
            .get_mechanism_info(self.slot, mechanism)
        {
            Ok(_) => Ok(true),
            Err(Cryptoki::Pkcs11(RvError::MechanismInvalid, _)) => Ok(false),
            Err(other) => Err(HsmError::from_cryptoki(other)),
        }
    }

    /// The session, for one operation at a time. A panic in another thread mid-operation leaves
    /// at worst a busy session, which the module reports as a typed error; no data is at risk,
    /// so a poisoned lock is taken over rather than propagated.
    pub(super) fn session(&self) -> MutexGuard<'_, Session> {
        self.session.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// `N` bytes from the token's random number generator (`C_GenerateRandom`).
    pub(super) fn random<const N: usize>(&self, session: &Session) -> Result<[u8; N], HsmError> {
        let mut bytes = [0u8; N];
        session
            .generate_random_slice(&mut bytes)
            .map_err(HsmError::from_cryptoki)?;
        Ok(bytes)
    }
}

/// The token's hint about tries left, read right after a failed login.
fn pin_retries(module: &Module, slot: Slot) -> PinRetries {
    match module.context().get_token_info(slot) {
        Ok(info) if info.user_pin_final_try() => PinRetries::FinalTry,
        Ok(info) if info.user_pin_count_low() => PinRetries::Low,
        _ => PinRetries::Unknown,
    }
}
