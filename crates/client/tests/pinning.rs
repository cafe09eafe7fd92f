//! Certificate pinning against the real backend over TLS 1.3 with a self-signed certificate:
//! the pinned certificate is accepted, any other is refused before a request is sent, and
//! without a pin the untrusted certificate is refused too.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use schild_client::{CertificatePin, Client};
use schild_server::AppState;
use schild_server::auth::security_keys::SecurityKeySettings;
use schild_server::sealing::Sealing;
use schild_server::serve::{Backend, TlsFiles, Transport};
use schild_store::Store;

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

    let store = Store::connect(&format!(
        "sqlite://{}",
        dir.path().join("server.db").display()
    ))
    .await
    .unwrap();
    let sealing = Sealing {
        provider: schild_server::key_file::load_or_create(&dir.path().join("server.kek")).unwrap(),
        rotation: schild_core::vault::RotationPolicy::default(),
    };
    let state = AppState::with_default_policies(store, SecurityKeySettings::default(), sealing)
        .await
        .unwrap();
    let backend = Backend::bind(state, "127.0.0.1:0".parse().unwrap(), Transport::Tls(files))
        .await
        .unwrap();
    let url = format!("https://localhost:{}", backend.local_addr().unwrap().port());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let served = tokio::spawn(backend.run(async move {
        let _ = stopped.await;
    }));

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

    let _ = stop.send(());
    served.await.unwrap().unwrap();
}
