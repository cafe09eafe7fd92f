//! Which FIDO2 authenticator model an AAGUID names.
//!
//! An AAGUID (WebAuthn L2 §6.5.1; CTAP 2.1 §6.4 `aaguid`) identifies an authenticator *series and
//! profile*, not an exact product: every YubiKey 5 with NFC of one firmware line reports the same
//! AAGUID. The table below holds the keys security teams issue most (Yubico, Feitian, Google,
//! Nitrokey, SoloKeys, Token2). Its values are the FIDO Metadata Service's descriptions as
//! collected in the community list `passkeydeveloper/passkey-authenticator-aaguids`
//! (`combined_aaguid.json`); a model missing here is shown as "unknown model", never guessed.

use super::Aaguid;

/// Who makes an authenticator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Vendor {
    /// Yubico (YubiKey, Security Key).
    Yubico,
    /// Feitian (ePass, BioPass).
    Feitian,
    /// Google (Titan).
    Google,
    /// Nitrokey.
    Nitrokey,
    /// SoloKeys (Solo, Somu).
    SoloKeys,
    /// Token2.
    Token2,
    /// Schild's own in-process virtual key (tests and demo mode; never a real key).
    Schild,
}

/// One known authenticator model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuthenticatorModel {
    /// Its AAGUID.
    pub aaguid: Aaguid,
    /// Its maker.
    pub vendor: Vendor,
    /// The FIDO metadata description, e.g. "YubiKey 5 Series with NFC".
    pub name: &'static str,
    /// Whether it has a fingerprint sensor (user verification by biometrics).
    pub biometric: bool,
}

/// The AAGUID of Schild's virtual CTAP2 key: a fixed, random value (version 4 UUID) so the
/// backend and the inventory can tell the demo key from real hardware at a glance.
pub const VIRTUAL_KEY_AAGUID: Aaguid = Aaguid::from_u128(0x5c41_1d00_7e57_4b1d_9a11_d3c0_de00_0001);

/// The model of an AAGUID, when it is in the table.
pub fn model(aaguid: Aaguid) -> Option<&'static AuthenticatorModel> {
    MODELS.iter().find(|model| model.aaguid == aaguid)
}

/// Every model in the table.
pub fn models() -> &'static [AuthenticatorModel] {
    MODELS
}

macro_rules! models {
    ($(($aaguid:literal, $vendor:ident, $name:literal, $bio:literal)),* $(,)?) => {
        &[$(AuthenticatorModel {
            aaguid: Aaguid::from_u128($aaguid),
            vendor: Vendor::$vendor,
            name: $name,
            biometric: $bio,
        }),*]
    };
}

#[rustfmt::skip]
static MODELS: &[AuthenticatorModel] = models![
    (0x5c41_1d00_7e57_4b1d_9a11_d3c0_de00_0001, Schild, "Schild virtual key (not hardware)", true),
    (0xcb69481e_8ff7_4039_93ec_0a2729a154a8, Yubico, "YubiKey 5 Series", false),
    (0xee882879_721c_4913_9775_3dfcce97072a, Yubico, "YubiKey 5 Series", false),
    (0x19083c3d_8383_4b18_bc03_8f1c9ab2fd1b, Yubico, "YubiKey 5 Series", false),
    (0xff4dac45_ede8_4ec2_aced_cf66103f4335, Yubico, "YubiKey 5 Series", false),
    (0xfa2b99dc_9e39_4257_8f92_4a30d23c4118, Yubico, "YubiKey 5 Series with NFC", false),
    (0x2fc0579f_8113_47ea_b116_bb5a8db9202a, Yubico, "YubiKey 5 Series with NFC", false),
    (0xd7781e5d_e353_46aa_afe2_3ca49f13332a, Yubico, "YubiKey 5 Series with NFC", false),
    (0xa25342c0_3cdc_4414_8e46_f4807fca511c, Yubico, "YubiKey 5 Series with NFC", false),
    (0x662ef48a_95e2_4aaa_a6c1_5b9c40375824, Yubico, "YubiKey 5 Series with NFC - Enhanced PIN", false),
    (0x1ac71f64_468d_4fe0_bef1_0e5f2f551f18, Yubico, "YubiKey 5 Series with NFC (Enterprise Profile)", false),
    (0xc5ef55ff_ad9a_4b9f_b580_adebafe026d0, Yubico, "YubiKey 5 Series with Lightning", false),
    (0x73bb0cd4_e502_49b8_9c6f_b59445bf720b, Yubico, "YubiKey 5 FIPS Series", false),
    (0xfcc0118f_cd45_435b_8da1_9782b2da0715, Yubico, "YubiKey 5 FIPS Series with NFC", false),
    (0xc1f9a0bc_1dd2_404a_b27f_8e29047a43fd, Yubico, "YubiKey 5 FIPS Series with NFC", false),
    (0xd8522d9f_575b_4866_88a9_ba99fa02f35b, Yubico, "YubiKey Bio Series - FIDO Edition", true),
    (0xdd86a2da_86a0_4cbe_b462_4bd31f57bc6f, Yubico, "YubiKey Bio Series - FIDO Edition", true),
    (0x7409272d_1ff9_4e10_9fc9_ac0019c124fd, Yubico, "YubiKey Bio Series - FIDO Edition", true),
    (0x90636e1f_ef82_43bf_bdcf_5255f139d12f, Yubico, "YubiKey Bio Series - Multi-protocol Edition", true),
    (0x34744913_4f57_4e6e_a527_e9ec3c4b94e6, Yubico, "YubiKey Bio Series - Multi-protocol Edition", true),
    (0xf8a011f3_8c0a_4d15_8006_17111f9edc7d, Yubico, "Security Key by Yubico", false),
    (0xb92c3f9a_c014_4056_887f_140a2501163b, Yubico, "Security Key by Yubico", false),
    (0x149a2021_8ef6_4133_96b8_81f8d5b7f1f5, Yubico, "Security Key by Yubico with NFC", false),
    (0x6d44ba9b_f6ec_2e49_b930_0c8fe920cb73, Yubico, "Security Key by Yubico with NFC", false),
    (0xa4e9fc6d_4cbe_4758_b8ba_37598bb5bbaa, Yubico, "Security Key NFC by Yubico", false),
    (0xe77e3c64_05e3_428b_8824_0cbeb04b829d, Yubico, "Security Key NFC by Yubico", false),
    (0xb7d3f68e_88a6_471e_9ecf_2df26d041ede, Yubico, "Security Key NFC by Yubico", false),
    (0x833b721a_ff5f_4d00_bb2e_bdda3ec01e29, Feitian, "Feitian ePass FIDO2 Authenticator", false),
    (0xee041bce_25e5_4cdb_8f86_897fd6418464, Feitian, "Feitian ePass FIDO2-NFC Authenticator", false),
    (0x12755c32_8ad1_46eb_881c_e0b38d848b09, Feitian, "Feitian ePass FIDO Authenticator (CTAP2.1, CTAP2.0, U2F)", false),
    (0x77010bd7_212a_4fc9_b236_d2ca5e9d4084, Feitian, "Feitian BioPass FIDO2 Authenticator", true),
    (0xb6ede29c_3772_412c_8a78_539c1f4c62d2, Feitian, "Feitian BioPass FIDO2 Plus Authenticator", true),
    (0x12ded745_4bed_47d4_abaa_e713f51d6393, Feitian, "Feitian AllinOne FIDO2 Authenticator", false),
    (0x42b4fb4a_2866_43b2_9bf7_6c6669c2e5d3, Google, "Google Titan Security Key v2", false),
    (0x2cd2f727_f6ca_44da_8f48_5c2e5da000a2, Nitrokey, "Nitrokey 3 AM", false),
    (0x9876631b_d4a0_427f_5773_0ec71c9e0279, SoloKeys, "Somu Secp256R1 FIDO2 CTAP2 Authenticator", false),
    (0xab32f0c6_2239_afbb_c470_d2ef4e254db7, Token2, "TOKEN2 FIDO2 Security Key", false),
    (0xeabb46cc_e241_80bf_ae9e_96fa6d2975cf, Token2, "TOKEN2 PIN Plus Security Key Series", false),
];

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn every_aaguid_appears_once() {
        let mut seen = HashSet::new();
        for model in models() {
            assert!(seen.insert(model.aaguid), "{} twice", model.aaguid);
        }
    }

    #[test]
    fn known_models_are_found_and_unknown_ones_are_not() {
        let bio: Aaguid = "d8522d9f-575b-4866-88a9-ba99fa02f35b".parse().unwrap();
        let found = model(bio).unwrap();
        assert_eq!(found.vendor, Vendor::Yubico);
        assert!(found.biometric);
        assert_eq!(model(Aaguid::from_u128(1)), None);
        assert_eq!(model(VIRTUAL_KEY_AAGUID).unwrap().vendor, Vendor::Schild);
    }
}
