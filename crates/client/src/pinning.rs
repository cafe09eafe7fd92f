//! Certificate pinning for a remote backend: the desktop accepts exactly the certificate whose
//! SHA-256 the administrator wrote down, whatever CA signed it. That guards an internal backend
//! with a self-signed or private-CA certificate, and one whose public CA is compromised. The
//! TLS handshake's signature is still checked against that certificate, with TLS 1.3 only.
//! Renewing the server's certificate changes the pin: give the new one in Settings.

use crate::ClientError;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, SignatureScheme};
use sha2::{Digest as _, Sha256};
use std::sync::Arc;

/// The SHA-256 of the server's certificate (DER), as `openssl x509 -noout -fingerprint
/// -sha256` prints it (colons optional) or as 64 hex digits.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct CertificatePin([u8; 32]);

impl std::fmt::Debug for CertificatePin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "CertificatePin({self})")
    }
}

impl std::fmt::Display for CertificatePin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&data_encoding::HEXUPPER.encode(&self.0))
    }
}

impl CertificatePin {
    /// Reads a pin; `sha256:`, `SHA256 Fingerprint=`, colons and spaces are ignored.
    pub fn parse(text: &str) -> Result<Self, ClientError> {
        let text = text.trim();
        let text = text
            .strip_prefix("sha256 Fingerprint=")
            .or_else(|| text.strip_prefix("SHA256 Fingerprint="))
            .or_else(|| text.strip_prefix("sha256:"))
            .unwrap_or(text);
        let hex: String = text
            .chars()
            .filter(|c| *c != ':' && !c.is_whitespace())
            .collect::<String>()
            .to_ascii_uppercase();
        data_encoding::HEXUPPER
            .decode(hex.as_bytes())
            .ok()
            .and_then(|bytes| <[u8; 32]>::try_from(bytes.as_slice()).ok())
            .map(Self)
            .ok_or_else(|| {
                ClientError::BadAddress(
                    "the certificate pin must be a SHA-256 fingerprint (64 hex digits)".into(),
                )
            })
    }

    /// The pin of a certificate.
    pub fn of(certificate_der: &[u8]) -> Self {
        Self(Sha256::digest(certificate_der).into())
    }
}

#[derive(Debug)]
struct PinnedCertificate {
    pin: CertificatePin,
    algorithms: WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for PinnedCertificate {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if CertificatePin::of(end_entity.as_ref()) == self.pin {
            Ok(ServerCertVerified::assertion())
        } else {
            tracing::warn!("the backend's certificate does not match the pin");
            Err(rustls::Error::InvalidCertificate(
                CertificateError::ApplicationVerificationFailure,
            ))
        }
    }

    fn verify_tls12_signature(
        &self,
        _message: &[u8],
        _cert: &CertificateDer<'_>,
        _dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        // Only TLS 1.3 is offered (see `tls_config`).
        Err(rustls::Error::PeerIncompatible(
            rustls::PeerIncompatible::Tls12NotOffered,
        ))
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// TLS 1.3 that accepts only the pinned certificate.
pub(crate) fn tls_config(pin: CertificatePin) -> Result<rustls::ClientConfig, ClientError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier = PinnedCertificate {
        pin,
        algorithms: provider.signature_verification_algorithms,
    };
    let config = rustls::ClientConfig::builder_with_provider(Arc::clone(&provider))
        .with_protocol_versions(&[&rustls::version::TLS13])
        .map_err(|e| ClientError::BadAddress(e.to_string()))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pins_are_read_in_the_usual_spellings() {
        let hex = "AB".repeat(32);
        let colons = vec!["ab"; 32].join(":");
        let expected = CertificatePin::parse(&hex).unwrap();
        assert_eq!(CertificatePin::parse(&colons).unwrap(), expected);
        assert_eq!(
            CertificatePin::parse(&format!("sha256:{hex}")).unwrap(),
            expected
        );
        assert_eq!(
            CertificatePin::parse(&format!("SHA256 Fingerprint={colons}")).unwrap(),
            expected
        );
        assert!(CertificatePin::parse("ab:cd").is_err());
        assert!(CertificatePin::parse(&"zz".repeat(32)).is_err());
        assert!(CertificatePin::parse("").is_err());
        assert_eq!(expected.to_string(), hex);
    }
}
