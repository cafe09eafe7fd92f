//! The backend's root key in a file: 32 random bytes, written once as hexadecimal with mode 0600,
//! for servers without an HSM or keyring (and for the desktop's embedded backend). Its id names a
//! fingerprint of the key, so an envelope sealed under another key file reports the wrong key
//! rather than corruption.

use rand::Rng as _;
use schild_core::provider::KeyEncryptionKey;
use schild_core::vault::LocalKek;
use sha2::{Digest, Sha256};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use zeroize::Zeroizing;

/// Why the key file could not be used. Never carries the key.
#[derive(Debug, thiserror::Error)]
pub enum KeyFileError {
    /// The file exists but cannot be read.
    #[error("cannot read the key file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file holds something other than a key.
    #[error("{path} is not a Schild key file: expected 64 hexadecimal digits (a 256-bit key)")]
    Damaged {
        /// The file.
        path: PathBuf,
    },
    /// A new file cannot be created or written.
    #[error("cannot create the key file {path}: {source}")]
    Create {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// Reads the key at `path`, or creates it there when the file does not exist.
pub fn load_or_create(path: &Path) -> Result<Arc<dyn KeyEncryptionKey>, KeyFileError> {
    let key = match std::fs::read_to_string(path) {
        Ok(text) => parse(&Zeroizing::new(text)).ok_or_else(|| KeyFileError::Damaged {
            path: path.to_owned(),
        })?,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => create(path)?,
        Err(source) => {
            return Err(KeyFileError::Read {
                path: path.to_owned(),
                source,
            });
        }
    };
    let fingerprint = data_encoding::HEXLOWER.encode(&Sha256::digest(key.as_ref())[..8]);
    let kek = LocalKek::new(format!("keyfile:{fingerprint};v=1"), key).map_err(|_| {
        KeyFileError::Damaged {
            path: path.to_owned(),
        }
    })?;
    Ok(Arc::new(kek))
}

fn parse(text: &str) -> Option<Zeroizing<[u8; 32]>> {
    let bytes = Zeroizing::new(
        data_encoding::HEXLOWER_PERMISSIVE
            .decode(text.trim().as_bytes())
            .ok()?,
    );
    let mut key = Zeroizing::new([0u8; 32]);
    if bytes.len() != key.len() {
        return None;
    }
    key.copy_from_slice(&bytes);
    Some(key)
}

fn create(path: &Path) -> Result<Zeroizing<[u8; 32]>, KeyFileError> {
    let failed = |source| KeyFileError::Create {
        path: path.to_owned(),
        source,
    };
    let mut key = Zeroizing::new([0u8; 32]);
    rand::rng().fill_bytes(key.as_mut());
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path).map_err(failed)?;
    let text = Zeroizing::new(format!(
        "{}\n",
        data_encoding::HEXLOWER.encode(key.as_ref())
    ));
    file.write_all(text.as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(failed)?;
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_created_key_file_is_private_and_reads_back_as_the_same_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("server.kek");
        let first = load_or_create(&path).unwrap();
        let again = load_or_create(&path).unwrap();
        assert_eq!(first.key_id(), again.key_id());
        let wrapped = first.wrap(&[1; 32], b"context").unwrap();
        assert_eq!(
            again.unwrap(&wrapped, b"context").unwrap().as_slice(),
            &[1; 32]
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn a_damaged_key_file_is_refused_with_its_path() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("server.kek");
        std::fs::write(&path, "not a key\n").unwrap();
        let error = load_or_create(&path).err().unwrap();
        assert!(
            error.to_string().contains("is not a Schild key file"),
            "{error}"
        );
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "not a key\n");
    }
}
