//! The TLS listener speaks TLS 1.3 and refuses older versions.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

mod common;

use rustls::pki_types::{CertificateDer, ServerName};
use schild_server::{Backend, ServeError, TlsFiles, Transport};
use schild_store::testing::TestDb;
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn client_config(
    root: CertificateDer<'static>,
    versions: &[&'static rustls::SupportedProtocolVersion],
) -> rustls::ClientConfig {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(root).unwrap();
    rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_protocol_versions(versions)
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serves_tls13_only() {
    let Some(db) = TestDb::sqlite().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let files = TlsFiles {
        cert: dir.path().join("cert.pem"),
        key: dir.path().join("key.pem"),
    };
    std::fs::write(&files.cert, certified.cert.pem()).unwrap();
    std::fs::write(&files.key, certified.signing_key.serialize_pem()).unwrap();
    let root = certified.cert.der().clone();

    let state = common::default_state(&db).await;
    let backend = Backend::bind(state, "127.0.0.1:0".parse().unwrap(), Transport::Tls(files))
        .await
        .unwrap();
    assert!(backend.is_tls());
    let addr = backend.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(backend.run(async move {
        let _ = stopped.await;
    }));

    let name = ServerName::try_from("localhost").unwrap();
    let tls13 = tokio_rustls::TlsConnector::from(Arc::new(client_config(
        root.clone(),
        &[&rustls::version::TLS13],
    )));
    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let mut stream = tls13
        .connect(name.clone(), tcp)
        .await
        .expect("TLS 1.3 handshake");
    assert_eq!(
        stream.get_ref().1.protocol_version(),
        Some(rustls::ProtocolVersion::TLSv1_3)
    );
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.ok();
    let response = String::from_utf8_lossy(&response);
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");

    let tls12 =
        tokio_rustls::TlsConnector::from(Arc::new(client_config(root, &[&rustls::version::TLS12])));
    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    assert!(
        tls12.connect(name, tcp).await.is_err(),
        "a TLS 1.2 client must be refused"
    );

    let _ = stop.send(());
    db.cleanup().await;
}

#[tokio::test]
async fn plain_http_off_loopback_is_refused() {
    let Some(db) = TestDb::sqlite().await else {
        return;
    };
    let state = common::default_state(&db).await;
    let refused = Backend::bind(
        state,
        "0.0.0.0:0".parse().unwrap(),
        Transport::Plain {
            allow_insecure: false,
        },
    )
    .await;
    assert!(matches!(refused, Err(ServeError::InsecureListen(_))));
    db.cleanup().await;
}
