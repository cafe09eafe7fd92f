//! Wrapping data keys with AES-256-GCM inside a real SoftHSM2 token, directly and through
//! schild-core's `KeyEncryptionKey`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use schild_core::provider::{KeyEncryptionKey, ProviderError, WrappedKey};
use schild_hwkey::hsm::{BLOB_OVERHEAD, FORMAT_AES256_GCM, HsmError, HsmKek, KeyKind, KeyLabel};
use schild_hwkey::softhsm_test;
use std::sync::Arc;

const DATA_KEY: [u8; 32] = *b"a 256-bit data key for a record!";
const AAD: &[u8] = b"vault/record/42";

fn kek() -> KeyLabel {
    KeyLabel::new("kek-2026").unwrap()
}

softhsm_test!(
    fn a_data_key_round_trips(hsm) {
        let token = hsm.login();
        token.generate(KeyKind::Aes256, &kek()).unwrap();
        let blob = token.wrap(&kek(), &DATA_KEY, AAD).unwrap();
        assert_eq!(blob.len(), BLOB_OVERHEAD + DATA_KEY.len());
        assert_eq!(blob[0], FORMAT_AES256_GCM);
        assert!(!blob.windows(DATA_KEY.len()).any(|w| w == DATA_KEY));
        assert_eq!(*token.unwrap(&kek(), &blob, AAD).unwrap(), DATA_KEY);
        // A fresh IV each time: wrapping twice gives different blobs.
        let again = token.wrap(&kek(), &DATA_KEY, AAD).unwrap();
        assert_ne!(blob[1..13], again[1..13]);
        assert_ne!(blob, again);
    }
);

softhsm_test!(
    fn the_wrong_aad_is_refused(hsm) {
        let token = hsm.login();
        token.generate(KeyKind::Aes256, &kek()).unwrap();
        let blob = token.wrap(&kek(), &DATA_KEY, AAD).unwrap();
        let error = token.unwrap(&kek(), &blob, b"vault/record/43").unwrap_err();
        assert!(matches!(error, HsmError::Unauthentic), "{error:?}");
        // The session is fine afterwards.
        assert_eq!(*token.unwrap(&kek(), &blob, AAD).unwrap(), DATA_KEY);
    }
);

softhsm_test!(
    fn any_flipped_byte_is_refused(hsm) {
        let token = hsm.login();
        token.generate(KeyKind::Aes256, &kek()).unwrap();
        let blob = token.wrap(&kek(), &DATA_KEY, AAD).unwrap();
        // The IV, the ciphertext and the tag.
        for index in [1, 12, 13, 13 + 31, blob.len() - 1] {
            let mut tampered = blob.clone();
            tampered[index] ^= 0x01;
            let error = token.unwrap(&kek(), &tampered, AAD).unwrap_err();
            assert!(matches!(error, HsmError::Unauthentic), "byte {index}: {error:?}");
        }
        // The format byte.
        let mut tampered = blob.clone();
        tampered[0] ^= 0x01;
        let error = token.unwrap(&kek(), &tampered, AAD).unwrap_err();
        assert!(matches!(error, HsmError::MalformedBlob { .. }), "{error:?}");
        // A truncated blob.
        let error = token.unwrap(&kek(), &blob[..BLOB_OVERHEAD - 1], AAD).unwrap_err();
        assert!(matches!(error, HsmError::MalformedBlob { .. }), "{error:?}");
        // An extra byte moves the tag.
        let mut longer = blob.clone();
        longer.push(0);
        let error = token.unwrap(&kek(), &longer, AAD).unwrap_err();
        assert!(matches!(error, HsmError::Unauthentic), "{error:?}");
        assert_eq!(*token.unwrap(&kek(), &blob, AAD).unwrap(), DATA_KEY);
    }
);

softhsm_test!(
    fn an_empty_aad_never_reaches_the_module(hsm) {
        let token = hsm.login();
        token.generate(KeyKind::Aes256, &kek()).unwrap();
        let error = token.wrap(&kek(), &DATA_KEY, b"").unwrap_err();
        assert!(matches!(error, HsmError::EmptyAad), "{error:?}");
        let blob = token.wrap(&kek(), &DATA_KEY, AAD).unwrap();
        let error = token.unwrap(&kek(), &blob, b"").unwrap_err();
        assert!(matches!(error, HsmError::EmptyAad), "{error:?}");
        // Had SoftHSM2 seen it, this process would have crashed before getting here.
        assert_eq!(*token.unwrap(&kek(), &blob, AAD).unwrap(), DATA_KEY);
    }
);

softhsm_test!(
    fn the_token_serves_as_a_key_encryption_key(hsm) {
        let token = Arc::new(hsm.login());
        token.generate(KeyKind::Aes256, &kek()).unwrap();
        let provider: Arc<dyn KeyEncryptionKey> =
            Arc::new(HsmKek::new(Arc::clone(&token), kek()).unwrap());
        assert_eq!(
            provider.key_id(),
            "pkcs11:token=schild-test;object=kek-2026;type=secret-key"
        );
        let wrapped = provider.wrap(&DATA_KEY, AAD).unwrap();
        assert_eq!(wrapped.key_id, provider.key_id());
        assert_eq!(*provider.unwrap(&wrapped, AAD).unwrap(), DATA_KEY);

        let error = provider.unwrap(&wrapped, b"elsewhere").unwrap_err();
        assert!(matches!(error, ProviderError::Unauthentic), "{error:?}");
        let error = provider.wrap(&DATA_KEY, b"").unwrap_err();
        assert!(matches!(error, ProviderError::EmptyAad), "{error:?}");
        let foreign = WrappedKey {
            key_id: "pkcs11:token=other;object=kek-2025;type=secret-key".to_owned(),
            blob: wrapped.blob.clone(),
        };
        let error = provider.unwrap(&foreign, AAD).unwrap_err();
        assert!(matches!(error, ProviderError::WrongKey { .. }), "{error:?}");

        // Several threads share one token; the session takes them in turn.
        std::thread::scope(|scope| {
            for n in 0..4u8 {
                let provider = Arc::clone(&provider);
                scope.spawn(move || {
                    let aad = [b'r', n];
                    let wrapped = provider.wrap(&[n; 32], &aad).unwrap();
                    assert_eq!(*provider.unwrap(&wrapped, &aad).unwrap(), [n; 32]);
                });
            }
        });
    }
);

softhsm_test!(
    fn a_kek_must_be_an_aes_key(hsm) {
        let token = Arc::new(hsm.login());
        let signer = KeyLabel::new("signer").unwrap();
        token.generate(KeyKind::Ed25519, &signer).unwrap();
        let error = HsmKek::new(Arc::clone(&token), signer).unwrap_err();
        assert!(matches!(error, HsmError::WrongKeyKind { .. }), "{error:?}");
        let error = HsmKek::new(token, kek()).unwrap_err();
        assert!(matches!(error, HsmError::KeyNotFound { .. }), "{error:?}");
    }
);
