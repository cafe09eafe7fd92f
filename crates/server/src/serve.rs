//! Running the backend: bind, pick plain HTTP (loopback only, unless allowed) or TLS 1.3, serve
//! until told to stop.

use crate::routes;
use crate::state::AppState;
use axum::Router;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;

/// A certificate chain and its private key, both PEM files.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    /// Certificate chain, leaf first.
    pub cert: PathBuf,
    /// The leaf's private key (PKCS#8, SEC1 or PKCS#1).
    pub key: PathBuf,
}

/// Why the backend could not start or stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServeError {
    /// Plain HTTP was asked for on an address other hosts can reach. Passwords and tokens would
    /// cross the network in the clear.
    #[error(
        "refusing plain HTTP on {0}, which is reachable from other hosts: give --tls-cert and --tls-key, or listen on 127.0.0.1"
    )]
    InsecureListen(SocketAddr),
    /// The address could not be bound (in use, or not permitted).
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// The certificate or key file could not be read or parsed.
    #[error("cannot load TLS {what} from {path}: {reason}")]
    TlsFiles {
        /// `certificate` or `private key`.
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// rustls refused the certificate and key (for example, they do not match).
    #[error("invalid TLS configuration: {0}")]
    TlsConfig(#[from] rustls::Error),
    /// Serving failed.
    #[error("server error: {0}")]
    Io(#[from] std::io::Error),
}

/// How the listener is secured.
#[derive(Debug, Clone)]
pub enum Transport {
    /// Plain HTTP; refused on non-loopback addresses unless `allow_insecure` is set.
    Plain {
        /// Explicit consent to plain HTTP off loopback (behind a TLS-terminating proxy).
        allow_insecure: bool,
    },
    /// TLS 1.3 only, with these files.
    Tls(TlsFiles),
}

/// A bound backend, ready to serve.
pub struct Backend {
    listener: TcpListener,
    tls: Option<Arc<rustls::ServerConfig>>,
    app: Router,
}

impl Backend {
    /// Binds the address and prepares TLS. Nothing is served until [`Backend::run`].
    pub async fn bind(
        state: AppState,
        addr: SocketAddr,
        transport: Transport,
    ) -> Result<Self, ServeError> {
        let tls = match transport {
            Transport::Plain { allow_insecure } => {
                if !addr.ip().is_loopback() && !allow_insecure {
                    return Err(ServeError::InsecureListen(addr));
                }
                None
            }
            Transport::Tls(files) => Some(Arc::new(tls13_config(&files)?)),
        };
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| ServeError::Bind { addr, source })?;
        Ok(Self {
            listener,
            tls,
            app: routes::app(state),
        })
    }

    /// The bound address (useful with port 0).
    pub fn local_addr(&self) -> Result<SocketAddr, ServeError> {
        Ok(self.listener.local_addr()?)
    }

    /// Whether the listener speaks TLS.
    pub fn is_tls(&self) -> bool {
        self.tls.is_some()
    }

    /// Serves until `shutdown` completes, then lets open requests finish (up to 10 s).
    pub async fn run(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), ServeError> {
        let service = self.app.into_make_service_with_connect_info::<SocketAddr>();
        match self.tls {
            None => {
                axum::serve(self.listener, service)
                    .with_graceful_shutdown(shutdown)
                    .await?;
            }
            Some(config) => {
                let handle = axum_server::Handle::<SocketAddr>::new();
                let stopper = handle.clone();
                tokio::spawn(async move {
                    shutdown.await;
                    stopper.graceful_shutdown(Some(Duration::from_secs(10)));
                });
                let listener = self.listener.into_std()?;
                axum_server::from_tcp_rustls(
                    listener,
                    axum_server::tls_rustls::RustlsConfig::from_config(config),
                )?
                .handle(handle)
                .serve(service)
                .await?;
            }
        }
        Ok(())
    }
}

/// A rustls server configuration that speaks TLS 1.3 and nothing older.
pub fn tls13_config(files: &TlsFiles) -> Result<rustls::ServerConfig, ServeError> {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&files.cert)
        .and_then(|iter| iter.collect())
        .map_err(|error| ServeError::TlsFiles {
            what: "certificate",
            path: files.cert.clone(),
            reason: error.to_string(),
        })?;
    if certs.is_empty() {
        return Err(ServeError::TlsFiles {
            what: "certificate",
            path: files.cert.clone(),
            reason: "no certificate in the file".into(),
        });
    }
    let key = PrivateKeyDer::from_pem_file(&files.key).map_err(|error| ServeError::TlsFiles {
        what: "private key",
        path: files.key.clone(),
        reason: error.to_string(),
    })?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13])?
        .with_no_client_auth()
        .with_single_cert(certs, key)?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
}
