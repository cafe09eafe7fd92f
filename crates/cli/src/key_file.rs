//! The backend's key-encryption key in a file: 32 random bytes, written once as hexadecimal with
//! mode 0600, for servers without an HSM. Its id names a fingerprint of the key, so an envelope
//! sealed under another key file reports the wrong key rather than corruption.

use anyhow::{Context, bail};
use rand::Rng as _;
use schild_core::provider::KeyEncryptionKey;
use schild_core::vault::LocalKek;
use sha2::{Digest, Sha256};
use std::io::Write;
use std::path::Path;
use std::sync::Arc;
use zeroize::Zeroizing;

/// Reads the key at `path`, or creates it there when the file does not exist.
pub fn load_or_create(path: &Path) -> anyhow::Result<Arc<dyn KeyEncryptionKey>> {
    let key = match std::fs::read_to_string(path) {
        Ok(text) => parse(&Zeroizing::new(text))
            .with_context(|| format!("{} is not a Schild key file", path.display()))?,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => create(path)?,
        Err(error) => {
            return Err(error)
                .with_context(|| format!("cannot read the key file {}", path.display()));
        }
    };
    let fingerprint = data_encoding::HEXLOWER.encode(&Sha256::digest(key.as_ref())[..8]);
    let kek = LocalKek::new(format!("keyfile:{fingerprint};v=1"), key)
        .context("cannot use the key file")?;
    Ok(Arc::new(kek))
}

fn parse(text: &str) -> anyhow::Result<Zeroizing<[u8; 32]>> {
    let bytes = Zeroizing::new(
        data_encoding::HEXLOWER_PERMISSIVE
            .decode(text.trim().as_bytes())
            .context("expected 64 hexadecimal digits")?,
    );
    let mut key = Zeroizing::new([0u8; 32]);
    if bytes.len() != key.len() {
        bail!("expected 64 hexadecimal digits (a 256-bit key)");
    }
    key.copy_from_slice(&bytes);
    Ok(key)
}

fn create(path: &Path) -> anyhow::Result<Zeroizing<[u8; 32]>> {
    let mut key = Zeroizing::new([0u8; 32]);
    rand::rng().fill_bytes(key.as_mut());
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(path)
        .with_context(|| format!("cannot create the key file {}", path.display()))?;
    let text = Zeroizing::new(format!(
        "{}\n",
        data_encoding::HEXLOWER.encode(key.as_ref())
    ));
    file.write_all(text.as_bytes())
        .and_then(|()| file.sync_all())
        .with_context(|| format!("cannot write the key file {}", path.display()))?;
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
            format!("{error:#}").contains("is not a Schild key file"),
            "{error:#}"
        );
    }
}
