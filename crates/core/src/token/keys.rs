//! Ed25519 key material for the [`KeyRing`](super::KeyRing): private keys with their PKCS#8
//! storage form (RFC 8410 §7), public keys, key ids, and their JWK / JWKS form (RFC 8037 §2,
//! RFC 7517).

use super::TokenError;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::pkcs8::DecodePrivateKey as _;
use jsonwebtoken::{DecodingKey, EncodingKey};
use serde::Serialize;
use sha2::{Digest as _, Sha256};
use std::fmt;
use time::OffsetDateTime;
use zeroize::Zeroizing;

/// The fixed PKCS#8 v1 prefix of an Ed25519 private key (RFC 8410 §7): SEQUENCE { version 0,
/// AlgorithmIdentifier { id-Ed25519 1.3.101.112 }, OCTET STRING { OCTET STRING (32 bytes) } },
/// followed by the 32-byte seed.
///
/// Written out rather than produced by `ed25519-dalek`'s encoder, which needs that crate's `alloc`
/// feature and returns a `Result` for an encoding that cannot fail. Decoding goes through the
/// `pkcs8` crate; the `rfc8410_pkcs8_known_answer` test pins these bytes to the RFC's example.
const PKCS8_ED25519_PREFIX: [u8; 16] = [
    0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
];

/// The public half of a signing key, with its key id.
#[derive(Clone)]
pub struct VerifyingKey {
    kid: String,
    key: ed25519_dalek::VerifyingKey,
    pub(super) decoding: DecodingKey,
}

impl VerifyingKey {
    /// A verifying key from its 32 raw bytes (the JWK `x`, RFC 8037 §2). The key id is derived,
    /// so a key and its id always match. Fails with [`TokenError::InvalidKey`] for bytes that are
    /// not a point on the curve.
    pub fn from_bytes(bytes: &[u8; 32]) -> Result<Self, TokenError> {
        ed25519_dalek::VerifyingKey::from_bytes(bytes)
            .map(Self::from_dalek)
            .map_err(|_| TokenError::InvalidKey)
    }

    fn from_dalek(key: ed25519_dalek::VerifyingKey) -> Self {
        let digest = Sha256::digest(key.as_bytes());
        let kid = URL_SAFE_NO_PAD.encode(&digest[..16]);
        let decoding = DecodingKey::from_ed_der(key.as_bytes());
        Self { kid, key, decoding }
    }

    /// The key id: base64url of the first 16 bytes of SHA-256 over the 32 public-key bytes
    /// (22 characters).
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The 32 raw public-key bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        self.key.as_bytes()
    }

    /// The key as a public JWK: `{"kty":"OKP","crv":"Ed25519","x":…,"kid":…,"use":"sig","alg":"EdDSA"}`
    /// (RFC 8037 §2, RFC 7517 §4).
    pub fn to_jwk(&self) -> Jwk {
        Jwk {
            kty: "OKP",
            crv: "Ed25519",
            x: URL_SAFE_NO_PAD.encode(self.key.as_bytes()),
            kid: self.kid.clone(),
            key_use: "sig",
            alg: "EdDSA",
        }
    }
}

impl PartialEq for VerifyingKey {
    fn eq(&self, other: &Self) -> bool {
        self.key == other.key
    }
}

impl Eq for VerifyingKey {}

impl fmt::Debug for VerifyingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifyingKey")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl From<&SigningKey> for VerifyingKey {
    fn from(key: &SigningKey) -> Self {
        key.verifying.clone()
    }
}

/// Keeps the public half; the private half is dropped (and zeroized).
impl From<SigningKey> for VerifyingKey {
    fn from(key: SigningKey) -> Self {
        key.verifying
    }
}

/// An Ed25519 private key with its key id and creation time.
///
/// The secret is zeroized on drop (both copies: `ed25519-dalek`'s and jsonwebtoken's), and
/// [`Debug`] shows only the key id and creation time. Not `Clone`, so the secret exists once.
pub struct SigningKey {
    secret: ed25519_dalek::SigningKey,
    pub(super) encoding: EncodingKey,
    verifying: VerifyingKey,
    created_at: OffsetDateTime,
}

impl SigningKey {
    /// A fresh key from `rng`.
    pub fn generate(rng: &mut impl rand::CryptoRng, created_at: OffsetDateTime) -> Self {
        Self::from_dalek(ed25519_dalek::SigningKey::generate(rng), created_at)
    }

    /// Loads a stored key from its PKCS#8 DER (RFC 5958; v1 as written by
    /// [`Self::to_pkcs8_der`], or v2 with the public key, which must then match).
    pub fn from_pkcs8_der(der: &[u8], created_at: OffsetDateTime) -> Result<Self, TokenError> {
        let secret =
            ed25519_dalek::SigningKey::from_pkcs8_der(der).map_err(|_| TokenError::InvalidKey)?;
        Ok(Self::from_dalek(secret, created_at))
    }

    /// Like [`Self::from_pkcs8_der`], and the stored key id must equal the one derived from the
    /// key ([`TokenError::KeyIdMismatch`] otherwise), which catches rows mixed up in storage.
    pub fn from_stored(
        kid: &str,
        der: &[u8],
        created_at: OffsetDateTime,
    ) -> Result<Self, TokenError> {
        let key = Self::from_pkcs8_der(der, created_at)?;
        if key.kid() != kid {
            return Err(TokenError::KeyIdMismatch);
        }
        Ok(key)
    }

    fn from_dalek(secret: ed25519_dalek::SigningKey, created_at: OffsetDateTime) -> Self {
        let verifying = VerifyingKey::from_dalek(secret.verifying_key());
        let encoding = EncodingKey::from_ed_der(&pkcs8_v1(&secret));
        Self {
            secret,
            encoding,
            verifying,
            created_at,
        }
    }

    /// The private key as PKCS#8 v1 DER (RFC 8410 §7, 48 bytes), for storage. Zeroized on drop.
    pub fn to_pkcs8_der(&self) -> Zeroizing<Vec<u8>> {
        pkcs8_v1(&self.secret)
    }

    /// The key id (see [`VerifyingKey::kid`]).
    pub fn kid(&self) -> &str {
        self.verifying.kid()
    }

    /// When the key was made.
    pub fn created_at(&self) -> OffsetDateTime {
        self.created_at
    }

    /// The public half.
    pub fn verifying_key(&self) -> &VerifyingKey {
        &self.verifying
    }

    /// The public half as a JWK (see [`VerifyingKey::to_jwk`]).
    pub fn verifying_jwk(&self) -> Jwk {
        self.verifying.to_jwk()
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid())
            .field("created_at", &self.created_at)
            .finish_non_exhaustive()
    }
}

fn pkcs8_v1(secret: &ed25519_dalek::SigningKey) -> Zeroizing<Vec<u8>> {
    // Exact capacity, so the buffer never reallocates and leaves no unzeroized copy behind.
    let mut der = Zeroizing::new(Vec::with_capacity(PKCS8_ED25519_PREFIX.len() + 32));
    der.extend_from_slice(&PKCS8_ED25519_PREFIX);
    der.extend_from_slice(secret.as_bytes());
    der
}

/// A public Ed25519 key as a JSON Web Key (RFC 7517 §4, OKP key type of RFC 8037 §2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Jwk {
    kty: &'static str,
    crv: &'static str,
    x: String,
    kid: String,
    #[serde(rename = "use")]
    key_use: &'static str,
    alg: &'static str,
}

impl Jwk {
    /// The key id.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The public key, base64url without padding.
    pub fn x(&self) -> &str {
        &self.x
    }
}

/// The published JWK Set (RFC 7517 §5): serialises as `{"keys":[…]}`, active key first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Jwks {
    pub(super) keys: Vec<Jwk>,
}

impl Jwks {
    /// The keys, active first.
    pub fn keys(&self) -> &[Jwk] {
        &self.keys
    }

    /// The key with this id, if published.
    pub fn find(&self, kid: &str) -> Option<&Jwk> {
        self.keys.iter().find(|jwk| jwk.kid == kid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::Algorithm;
    use rand::SeedableRng as _;
    use serde_json::json;
    use time::macros::datetime;

    fn t0() -> OffsetDateTime {
        datetime!(2025-01-01 00:00 UTC)
    }

    fn key(seed: u64) -> SigningKey {
        SigningKey::generate(&mut rand::rngs::StdRng::seed_from_u64(seed), t0())
    }

    #[test]
    fn rfc8037_ed25519_known_answer() {
        // RFC 8037 appendix A.1 (key), A.2 (public JWK) and A.4 (JWS signature).
        let seed = URL_SAFE_NO_PAD
            .decode("nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A")
            .unwrap();
        let mut der = PKCS8_ED25519_PREFIX.to_vec();
        der.extend_from_slice(&seed);
        let key = SigningKey::from_pkcs8_der(&der, t0()).unwrap();
        assert_eq!(
            key.verifying_jwk().x(),
            "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"
        );

        let signature = jsonwebtoken::crypto::sign(
            b"eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc",
            &key.encoding,
            Algorithm::EdDSA,
        )
        .unwrap();
        assert_eq!(
            signature,
            "hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg"
        );

        let jwk = serde_json::to_value(key.verifying_jwk()).unwrap();
        assert_eq!(
            jwk,
            json!({
                "kty": "OKP",
                "crv": "Ed25519",
                "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo",
                "kid": key.kid(),
                "use": "sig",
                "alg": "EdDSA",
            })
        );
    }

    #[test]
    fn rfc8410_pkcs8_known_answer() {
        use base64::engine::general_purpose::STANDARD;
        // RFC 8410 §10.3 (private key, v1 and v2 with attributes and public key) and §10.1
        // (the matching public key as SubjectPublicKeyInfo).
        let v1 = STANDARD
            .decode("MC4CAQAwBQYDK2VwBCIEINTuctv5E1hK1bbY8fdp+K06/nwoy/HU++CXqI9EdVhC")
            .unwrap();
        let spki = STANDARD
            .decode("MCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=")
            .unwrap();
        let key = SigningKey::from_pkcs8_der(&v1, t0()).unwrap();
        assert_eq!(key.to_pkcs8_der().as_slice(), v1.as_slice());
        assert_eq!(key.verifying_key().as_bytes().as_slice(), &spki[12..]);

        let v2 = STANDARD
            .decode(concat!(
                "MHICAQEwBQYDK2VwBCIEINTuctv5E1hK1bbY8fdp+K06/nwoy/HU++CXqI9EdVhC",
                "oB8wHQYKKoZIhvcNAQkJFDEPDA1DdXJkbGUgQ2hhaXJzgSEAGb9ECWmEzf6FQbrB",
                "Z9w7lshQhqowtrbLDFw4rXAxZuE="
            ))
            .unwrap();
        let from_v2 = SigningKey::from_stored(key.kid(), &v2, t0()).unwrap();
        assert_eq!(from_v2.verifying_key(), key.verifying_key());
    }

    #[test]
    fn keys_round_trip_through_pkcs8_and_check_their_id() {
        let original = key(2);
        assert_eq!(original.kid().len(), 22);
        let der = original.to_pkcs8_der();
        assert_eq!(der.len(), 48);
        let loaded = SigningKey::from_stored(original.kid(), &der, t0()).unwrap();
        assert_eq!(loaded.verifying_key(), original.verifying_key());
        assert_eq!(loaded.kid(), original.kid());

        assert_eq!(
            SigningKey::from_stored(key(3).kid(), &der, t0()).unwrap_err(),
            TokenError::KeyIdMismatch
        );
        assert_eq!(
            SigningKey::from_pkcs8_der(&der[..47], t0()).unwrap_err(),
            TokenError::InvalidKey
        );
        assert_eq!(
            SigningKey::from_pkcs8_der(b"not der", t0()).unwrap_err(),
            TokenError::InvalidKey
        );
        assert_eq!(
            SigningKey::from_pkcs8_der(&[], t0()).unwrap_err(),
            TokenError::InvalidKey
        );
    }

    #[test]
    fn verifying_keys_from_bytes_derive_the_same_id() {
        let signing = key(4);
        let public = VerifyingKey::from_bytes(signing.verifying_key().as_bytes()).unwrap();
        assert_eq!(public.kid(), signing.kid());
        assert_eq!(VerifyingKey::from(&signing), public);
    }

    #[test]
    fn debug_output_hides_private_keys() {
        let signing = key(5);
        let debug = format!("{signing:?} {:?}", signing.verifying_key());
        let der = signing.to_pkcs8_der();
        let seed = &der[16..];
        assert!(debug.contains(signing.kid()));
        assert!(!debug.contains(&URL_SAFE_NO_PAD.encode(seed)));
        let hex: String = seed.iter().map(|b| format!("{b:02x}")).collect();
        assert!(!debug.contains(&hex));
        assert!(!debug.contains(&format!("{seed:?}")[1..20]));
    }
}
