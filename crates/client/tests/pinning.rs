//! Certificate pinning against the real backend over TLS 1.3 with a self-signed certificate:
//! the pinned certificate is accepted, any other is refused before a request is sent, and
//! without a pin the untrusted certificate is refused too.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use schild_client::{CertificatePin, Client};
use schild_server::serve::{TlsFiles, Transport};

#[tokio::test(flavor = "multi_thread")]
async fn only_the_pinned_certificate_is_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let files = TlsFiles {
        cert: dir.path().join("cert.pem"),
        key: dir.path().join("key.pem"),
    };
    std::fs::write(&files.cert, certified.cert.pem()).unwrap();
    std::fs::write(&files.key, certified.signing_key.serialize_pem()).unwrap();
    let right = CertificatePin::of(certified.cert.der());
    let other = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let wrong = CertificatePin::of(other.cert.der());

    let backend = common::start(dir.path(), 0, Transport::Tls(files)).await;
    let url = format!("https://localhost:{}", backend.addr.port());

    assert!(
        Client::new(&url, Some(right)).unwrap().healthy().await,
        "the pinned certificate"
    );
    assert!(
        !Client::new(&url, Some(wrong)).unwrap().healthy().await,
        "another certificate"
    );
    assert!(
        !Client::new(&url, None).unwrap().healthy().await,
        "no pin, untrusted certificate"
    );

    backend.stop().await;
}
