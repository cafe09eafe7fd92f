//! Signing inside a real SoftHSM2 token, checked by verifiers that never touch it: the `p256`
//! and `ed25519-dalek` crates.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use p256::ecdsa::signature::Verifier as _;
use schild_core::provider::{SignatureAlgorithm, Signer};
use schild_hwkey::hsm::{HsmError, HsmSigner, KeyKind, KeyLabel};
use schild_hwkey::softhsm_test;
use std::sync::Arc;

const MESSAGE: &[u8] = b"audit checkpoint 1024: 6f1e...";

fn label(name: &str) -> KeyLabel {
    KeyLabel::new(name).unwrap()
}

softhsm_test!(
    fn p256_signatures_verify_without_the_token(hsm) {
        let token = hsm.login();
        let key = label("audit-p256");
        token.generate(KeyKind::P256, &key).unwrap();
        let public = token.public_key(&key).unwrap();
        assert_eq!(public.algorithm, SignatureAlgorithm::EcdsaP256Sha256);
        assert_eq!(public.bytes.len(), 65);
        let signature = token.sign(&key, MESSAGE).unwrap();
        assert_eq!(signature.len(), 64);

        let verifier = p256::ecdsa::VerifyingKey::from_sec1_bytes(&public.bytes).unwrap();
        let parsed = p256::ecdsa::Signature::from_slice(&signature).unwrap();
        verifier.verify(MESSAGE, &parsed).unwrap();
        assert!(verifier.verify(b"another message", &parsed).is_err());

        token.verify(&key, MESSAGE, &signature).unwrap();
        let error = token.verify(&key, b"another message", &signature).unwrap_err();
        assert!(matches!(error, HsmError::BadSignature), "{error:?}");
    }
);

softhsm_test!(
    fn ed25519_signatures_verify_without_the_token(hsm) {
        let token = hsm.login();
        let key = label("audit-ed25519");
        token.generate(KeyKind::Ed25519, &key).unwrap();
        let public = token.public_key(&key).unwrap();
        assert_eq!(public.algorithm, SignatureAlgorithm::Ed25519);
        let signature = token.sign(&key, MESSAGE).unwrap();

        let bytes: [u8; 32] = public.bytes.as_slice().try_into().unwrap();
        let verifier = ed25519_dalek::VerifyingKey::from_bytes(&bytes).unwrap();
        let parsed = ed25519_dalek::Signature::from_slice(&signature).unwrap();
        verifier.verify_strict(MESSAGE, &parsed).unwrap();
        assert!(verifier.verify_strict(b"another message", &parsed).is_err());

        token.verify(&key, MESSAGE, &signature).unwrap();
        let mut flipped = signature.clone();
        flipped[10] ^= 0x80;
        let error = token.verify(&key, MESSAGE, &flipped).unwrap_err();
        assert!(matches!(error, HsmError::BadSignature), "{error:?}");
        // Ed25519 is deterministic (RFC 8032 §5.1.6).
        assert_eq!(token.sign(&key, MESSAGE).unwrap(), signature);
    }
);

softhsm_test!(
    fn the_token_serves_as_a_signer(hsm) {
        let token = Arc::new(hsm.login());
        for (kind, name, algorithm) in [
            (KeyKind::P256, "checkpoint-p256", SignatureAlgorithm::EcdsaP256Sha256),
            (KeyKind::Ed25519, "checkpoint-ed25519", SignatureAlgorithm::Ed25519),
        ] {
            token.generate(kind, &label(name)).unwrap();
            let signer: Arc<dyn Signer> =
                Arc::new(HsmSigner::new(Arc::clone(&token), label(name)).unwrap());
            assert_eq!(signer.algorithm(), algorithm);
            assert_eq!(
                signer.key_id(),
                format!("pkcs11:token=schild-test;object={name};type=private")
            );
            let signature = signer.sign(MESSAGE).unwrap();
            match algorithm {
                SignatureAlgorithm::EcdsaP256Sha256 => {
                    let verifier =
                        p256::ecdsa::VerifyingKey::from_sec1_bytes(signer.public_key()).unwrap();
                    let parsed = p256::ecdsa::Signature::from_slice(&signature).unwrap();
                    verifier.verify(MESSAGE, &parsed).unwrap();
                }
                _ => {
                    let bytes: [u8; 32] = signer.public_key().try_into().unwrap();
                    let verifier = ed25519_dalek::VerifyingKey::from_bytes(&bytes).unwrap();
                    let parsed = ed25519_dalek::Signature::from_slice(&signature).unwrap();
                    verifier.verify_strict(MESSAGE, &parsed).unwrap();
                }
            }
        }
        token.generate(KeyKind::Aes256, &label("kek")).unwrap();
        let error = HsmSigner::new(token, label("kek")).unwrap_err();
        assert!(matches!(error, HsmError::WrongKeyKind { .. }), "{error:?}");
    }
);
