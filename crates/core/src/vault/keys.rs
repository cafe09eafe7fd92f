//! The vault's key hierarchy, from the key that unlocks it down to the key of each item:
//!
//! ```text
//! root key             an unlock method on the desktop (passphrase, OS keyring, security key,
//!                      HSM) unwrapping the vault's master key; the configured provider on a server
//!   └─ KEK version n   random AES-256 keys, wrapped by the root, one of them current
//!        └─ DEK        a fresh AES-256 key per item (see `envelope`)
//! ```
//!
//! Rotating the KEK adds version n+1 and re-wraps every DEK from n to n+1; the root is needed
//! once to unwrap the versions and never for each item. On the desktop the root is a master key
//! that several unlock methods wrap at once, so a rotation never needs every unlock method present.

use crate::provider::{KeyEncryptionKey, WrappedKey};
use crate::vault::envelope::push_prefixed;
use crate::vault::{LocalKek, VaultError};
use rand::CryptoRng;
use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use zeroize::Zeroizing;

/// Domain separation of a wrapped KEK version's AAD.
const KEK_AAD: &[u8] = b"schild-vault-kek-v1";
/// Domain separation of a wrapped master key's AAD.
const MASTER_AAD: &[u8] = b"schild-vault-master-v1";

/// The version of a vault's KEK: 1 for a new vault, one more at every rotation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct KeyVersion(u32);

impl KeyVersion {
    /// The first version of a new vault.
    pub const FIRST: Self = Self(1);

    /// A version read from storage; 0 is not a version.
    pub fn new(version: u32) -> Option<Self> {
        (version > 0).then_some(Self(version))
    }

    /// The number.
    pub fn get(self) -> u32 {
        self.0
    }

    /// The version a rotation creates; `None` after 4 billion rotations.
    pub fn next(self) -> Option<Self> {
        self.0.checked_add(1).map(Self)
    }
}

impl fmt::Display for KeyVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "v{}", self.0)
    }
}

/// The key id of a vault's KEK version, recorded in every envelope it wraps.
pub fn kek_id(vault: &str, version: KeyVersion) -> String {
    format!("vault:{vault};kek={version}")
}

fn kek_aad(vault: &str, version: KeyVersion) -> Result<Vec<u8>, VaultError> {
    let mut aad = KEK_AAD.to_vec();
    push_prefixed(&mut aad, vault.as_bytes())?;
    aad.extend_from_slice(&version.get().to_be_bytes());
    Ok(aad)
}

fn master_aad(vault: &str, unlock_method: &str) -> Result<Vec<u8>, VaultError> {
    let mut aad = MASTER_AAD.to_vec();
    push_prefixed(&mut aad, vault.as_bytes())?;
    push_prefixed(&mut aad, unlock_method.as_bytes())?;
    Ok(aad)
}

fn random_key(rng: &mut impl CryptoRng) -> Zeroizing<[u8; 32]> {
    let mut key = Zeroizing::new([0u8; 32]);
    rng.fill_bytes(key.as_mut());
    key
}

fn exact_key(bytes: &[u8]) -> Result<Zeroizing<[u8; 32]>, VaultError> {
    let mut key = Zeroizing::new([0u8; 32]);
    if bytes.len() != key.len() {
        return Err(VaultError::Unauthentic);
    }
    key.copy_from_slice(bytes);
    Ok(key)
}

/// Makes KEK `version` of `vault`: a random key, and the same key wrapped by `root` for storage.
pub fn generate_kek(
    vault: &str,
    version: KeyVersion,
    root: &dyn KeyEncryptionKey,
    rng: &mut impl CryptoRng,
) -> Result<(LocalKek, WrappedKey), VaultError> {
    let key = random_key(rng);
    let wrapped = root.wrap(key.as_ref(), &kek_aad(vault, version)?)?;
    let kek = LocalKek::new(kek_id(vault, version), key)?;
    Ok((kek, wrapped))
}

/// Unwraps KEK `version` of `vault` with `root`. A wrapped key moved to another vault or
/// version, or altered, fails as [`VaultError::Unauthentic`].
pub fn open_kek(
    vault: &str,
    version: KeyVersion,
    root: &dyn KeyEncryptionKey,
    wrapped: &WrappedKey,
) -> Result<LocalKek, VaultError> {
    let key = root.unwrap(wrapped, &kek_aad(vault, version)?)?;
    Ok(LocalKek::new(kek_id(vault, version), exact_key(&key)?)?)
}

/// A desktop vault's master key: the root of its KEK versions, wrapped once per unlock method.
/// Held only while the vault is unlocked; wiped on drop.
pub struct MasterKey {
    kek: LocalKek,
    bytes: Zeroizing<[u8; 32]>,
}

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MasterKey")
            .field("key_id", &self.kek.key_id())
            .finish_non_exhaustive()
    }
}

impl MasterKey {
    /// A fresh master key for a new vault.
    pub fn generate(vault: &str, rng: &mut impl CryptoRng) -> Result<Self, VaultError> {
        Self::from_bytes(vault, random_key(rng))
    }

    fn from_bytes(vault: &str, bytes: Zeroizing<[u8; 32]>) -> Result<Self, VaultError> {
        let kek = LocalKek::new(format!("vault:{vault};master"), bytes.clone())?;
        Ok(Self { kek, bytes })
    }

    /// Wraps this master key under an unlock method's key, bound to the vault and the method's
    /// id, so a wrapped master key moved to another method or vault does not open.
    pub fn wrap_for(
        &self,
        vault: &str,
        unlock_method: &str,
        method_key: &dyn KeyEncryptionKey,
    ) -> Result<WrappedKey, VaultError> {
        Ok(method_key.wrap(self.bytes.as_ref(), &master_aad(vault, unlock_method)?)?)
    }

    /// Unwraps the master key with an unlock method's key.
    pub fn unwrap_with(
        vault: &str,
        unlock_method: &str,
        method_key: &dyn KeyEncryptionKey,
        wrapped: &WrappedKey,
    ) -> Result<Self, VaultError> {
        let bytes = method_key.unwrap(wrapped, &master_aad(vault, unlock_method)?)?;
        Self::from_bytes(vault, exact_key(&bytes)?)
    }

    /// The master key as the root of the vault's KEK versions.
    pub fn as_root(&self) -> &dyn KeyEncryptionKey {
        &self.kek
    }
}

/// The KEK versions of one vault that are in use: the current one seals, any of them opens.
#[derive(Clone)]
pub struct KekSet {
    current: Arc<dyn KeyEncryptionKey>,
    by_id: HashMap<String, Arc<dyn KeyEncryptionKey>>,
}

impl fmt::Debug for KekSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut ids: Vec<&String> = self.by_id.keys().collect();
        ids.sort();
        f.debug_struct("KekSet")
            .field("current", &self.current.key_id())
            .field("keys", &ids)
            .finish()
    }
}

impl KekSet {
    /// A set whose current KEK is `current`, which also opens envelopes of `older` keys.
    pub fn new(
        current: Arc<dyn KeyEncryptionKey>,
        older: impl IntoIterator<Item = Arc<dyn KeyEncryptionKey>>,
    ) -> Self {
        let mut by_id: HashMap<String, Arc<dyn KeyEncryptionKey>> = older
            .into_iter()
            .map(|kek| (kek.key_id().to_owned(), kek))
            .collect();
        by_id.insert(current.key_id().to_owned(), Arc::clone(&current));
        Self { current, by_id }
    }

    /// The KEK that seals.
    pub fn current(&self) -> &dyn KeyEncryptionKey {
        self.current.as_ref()
    }

    /// Whether an envelope was wrapped by another KEK than the current one (so a rotation still
    /// has to re-wrap it).
    pub fn is_stale(&self, envelope: &[u8]) -> Result<bool, VaultError> {
        Ok(crate::vault::Envelope::parse(envelope)?.key_id() != self.current.key_id())
    }

    /// Seals under the current KEK (see [`crate::vault::seal`]).
    pub fn seal(
        &self,
        context: crate::vault::ItemContext<'_>,
        plaintext: &[u8],
        rng: &mut impl CryptoRng,
    ) -> Result<Vec<u8>, VaultError> {
        crate::vault::seal(self.current(), context, plaintext, rng)
    }

    /// Opens an envelope wrapped by any KEK of the set.
    pub fn open(
        &self,
        context: crate::vault::ItemContext<'_>,
        envelope: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, VaultError> {
        crate::vault::open(self.wrapping(envelope)?, context, envelope)
    }

    /// Re-wraps an envelope's DEK under the current KEK; `None` when it already is.
    pub fn rewrap_to_current(
        &self,
        context: crate::vault::ItemContext<'_>,
        envelope: &[u8],
    ) -> Result<Option<Vec<u8>>, VaultError> {
        let old = self.wrapping(envelope)?;
        if old.key_id() == self.current.key_id() {
            return Ok(None);
        }
        crate::vault::rewrap(old, self.current(), context, envelope).map(Some)
    }

    fn wrapping(&self, envelope: &[u8]) -> Result<&dyn KeyEncryptionKey, VaultError> {
        let parsed = crate::vault::Envelope::parse(envelope)?;
        self.by_id
            .get(parsed.key_id())
            .map(|kek| kek.as_ref())
            .ok_or_else(|| VaultError::UnknownKey {
                key_id: parsed.key_id().to_owned(),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vault::ItemContext;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    const ITEM: ItemContext<'static> = ItemContext {
        vault: "laptop",
        item: "item-1",
        purpose: "backend-credential",
    };

    fn rng() -> StdRng {
        StdRng::seed_from_u64(7)
    }

    #[test]
    fn a_kek_version_opens_only_in_its_own_vault_and_version() {
        let mut rng = rng();
        let master = MasterKey::generate("laptop", &mut rng).unwrap();
        let (kek, wrapped) =
            generate_kek("laptop", KeyVersion::FIRST, master.as_root(), &mut rng).unwrap();
        let reopened = open_kek("laptop", KeyVersion::FIRST, master.as_root(), &wrapped).unwrap();
        assert_eq!(reopened.key_id(), kek.key_id());
        let sealed = crate::vault::seal(&kek, ITEM, b"secret", &mut rng).unwrap();
        assert_eq!(
            crate::vault::open(&reopened, ITEM, &sealed)
                .unwrap()
                .as_slice(),
            b"secret"
        );

        let v2 = KeyVersion::FIRST.next().unwrap();
        assert!(matches!(
            open_kek("laptop", v2, master.as_root(), &wrapped),
            Err(VaultError::Unauthentic)
        ));
        assert!(matches!(
            open_kek("desktop", KeyVersion::FIRST, master.as_root(), &wrapped),
            Err(VaultError::Unauthentic)
        ));
    }

    #[test]
    fn the_master_key_opens_with_each_unlock_method_and_only_its_own_wrap() {
        let mut rng = rng();
        let master = MasterKey::generate("laptop", &mut rng).unwrap();
        let passphrase = LocalKek::new("passphrase", Zeroizing::new([1; 32])).unwrap();
        let keyring = LocalKek::new("keyring", Zeroizing::new([2; 32])).unwrap();
        let by_passphrase = master.wrap_for("laptop", "m1", &passphrase).unwrap();
        let by_keyring = master.wrap_for("laptop", "m2", &keyring).unwrap();

        let (kek, wrapped_kek) =
            generate_kek("laptop", KeyVersion::FIRST, master.as_root(), &mut rng).unwrap();
        for (method, key, wrapped) in [
            ("m1", &passphrase, &by_passphrase),
            ("m2", &keyring, &by_keyring),
        ] {
            let unlocked = MasterKey::unwrap_with("laptop", method, key, wrapped).unwrap();
            let reopened = open_kek(
                "laptop",
                KeyVersion::FIRST,
                unlocked.as_root(),
                &wrapped_kek,
            )
            .unwrap();
            assert_eq!(reopened.key_id(), kek.key_id());
        }
        // A wrap moved to another method's row does not open.
        assert!(matches!(
            MasterKey::unwrap_with("laptop", "m2", &passphrase, &by_passphrase),
            Err(VaultError::Unauthentic)
        ));
    }

    #[test]
    fn a_kek_set_opens_every_version_seals_with_the_current_and_rewraps_stale_envelopes() {
        let mut rng = rng();
        let v1: Arc<dyn KeyEncryptionKey> = Arc::new(
            LocalKek::new(kek_id("laptop", KeyVersion::FIRST), Zeroizing::new([3; 32])).unwrap(),
        );
        let v2: Arc<dyn KeyEncryptionKey> = Arc::new(
            LocalKek::new(
                kek_id("laptop", KeyVersion::FIRST.next().unwrap()),
                Zeroizing::new([4; 32]),
            )
            .unwrap(),
        );
        let old = crate::vault::seal(v1.as_ref(), ITEM, b"old", &mut rng).unwrap();
        let set = KekSet::new(Arc::clone(&v2), [Arc::clone(&v1)]);
        assert!(set.is_stale(&old).unwrap());
        assert_eq!(set.open(ITEM, &old).unwrap().as_slice(), b"old");

        let rewrapped = set.rewrap_to_current(ITEM, &old).unwrap().unwrap();
        assert!(!set.is_stale(&rewrapped).unwrap());
        assert_eq!(set.rewrap_to_current(ITEM, &rewrapped).unwrap(), None);
        let only_v2 = KekSet::new(v2, []);
        assert_eq!(only_v2.open(ITEM, &rewrapped).unwrap().as_slice(), b"old");
        assert!(matches!(
            only_v2.open(ITEM, &old),
            Err(VaultError::UnknownKey { .. })
        ));
        let fresh = set.seal(ITEM, b"new", &mut rng).unwrap();
        assert!(!set.is_stale(&fresh).unwrap());
    }

    #[test]
    fn versions_count_up_from_one() {
        assert_eq!(KeyVersion::new(0), None);
        assert_eq!(KeyVersion::FIRST.next().map(KeyVersion::get), Some(2));
        assert_eq!(KeyVersion::new(u32::MAX).and_then(KeyVersion::next), None);
        assert_eq!(kek_id("a", KeyVersion::FIRST), "vault:a;kek=v1");
    }
}
