//! Vendor attestation roots bundled with Schild (`crates/server/attestation/`): with them, a key
//! is registered only when its attestation chains to its vendor's root and its AAGUID is one the
//! vendor makes, so the model is proven rather than claimed.

use schild_core::authenticator::catalogue;
use webauthn_rs_core::proto::{AttestationCaList, AttestationCaListBuilder};

/// Yubico U2F Root CA Serial 457200631, which signs the attestation of YubiKey 5, YubiKey Bio and
/// Security Key by Yubico.
const YUBICO_ROOT: &[u8] = include_bytes!("../../../attestation/yubico-u2f-root-ca-457200631.pem");

/// The bundled roots, each vouching for its vendor's models in the catalogue.
pub fn bundled() -> AttestationCaList {
    let mut builder = AttestationCaListBuilder::new();
    for (aaguid, name) in catalogue::models() {
        if name.contains("YubiKey") || name.contains("by Yubico") {
            // A bundled, checked-in certificate: a parse failure is caught by the test below.
            if let Err(error) = builder.insert_device_pem(
                YUBICO_ROOT,
                aaguid.0,
                name.to_owned(),
                Default::default(),
            ) {
                tracing::error!(?error, "bundled Yubico root does not parse");
            }
        }
    }
    builder.build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bundled_root_parses_and_vouches_for_yubico_models_only() {
        let roots = bundled();
        assert_eq!(roots.len(), 1, "one root certificate");
        let ca = roots.cas().values().next().unwrap();
        let bio: uuid::Uuid = "d8522d9f-575b-4866-88a9-ba99fa02f35b".parse().unwrap();
        let titan: uuid::Uuid = "42b4fb4a-2866-43b2-9bf7-6c6669c2e5d3".parse().unwrap();
        assert!(ca.aaguids().contains_key(&bio));
        assert!(!ca.aaguids().contains_key(&titan));
        assert!(!ca.blanket_allow());
    }
}
