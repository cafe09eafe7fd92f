//! Local mode: with no backend configured, the app runs the same schild-server in-process on a
//! loopback port, with SQLite and its root key file in the user's data directory, so a newcomer
//! can sign in and use every screen at once.

use crate::error::CommandError;
use schild_core::rbac::review::ReviewSchedule;
use schild_core::vault::RotationPolicy;
use schild_server::AppState;
use schild_server::auth::security_keys::SecurityKeySettings;
use schild_server::sealing::Sealing;
use schild_server::serve::{Backend, Transport};
use schild_store::Store;
use secrecy::{ExposeSecret as _, SecretString};
use std::net::{Ipv4Addr, SocketAddr};
use std::path::Path;
use tokio::sync::oneshot;

/// The running embedded backend. Dropping it stops the server.
pub struct LocalBackend {
    /// Where it listens: `http://127.0.0.1:PORT`.
    pub url: String,
    /// The one-time token for creating the first administrator, while no account exists.
    setup_token: Option<SecretString>,
    _stop: oneshot::Sender<()>,
}

impl LocalBackend {
    /// The first-administrator setup token, while no account exists.
    pub fn setup_token(&self) -> Option<String> {
        self.setup_token
            .as_ref()
            .map(|token| token.expose_secret().to_owned())
    }
}

/// Starts the backend on a free loopback port over `server.db` and `server.kek` in `data_dir`.
pub async fn start(data_dir: &Path) -> Result<LocalBackend, CommandError> {
    let failed = |what: &str, error: &dyn std::fmt::Display| {
        CommandError::new("local_backend.start", format!("{what}: {error}"))
            .recommend("Check that the data directory is writable, then restart Schild.")
    };
    std::fs::create_dir_all(data_dir)
        .map_err(|e| failed("cannot create the data directory", &e))?;
    let url = format!("sqlite://{}", data_dir.join("server.db").display());
    let store = Store::connect(&url)
        .await
        .map_err(|e| failed("cannot open the local database", &e))?;
    let provider = schild_server::key_file::load_or_create(&data_dir.join("server.kek"))
        .map_err(|e| failed("cannot open the local root key", &e))?;
    // The port is chosen before the state is built, because the WebAuthn origin names it: the
    // desktop answers ceremonies as `http://localhost:PORT`.
    let port = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|probe| probe.local_addr())
        .map_err(|e| failed("cannot listen on loopback", &e))?
        .port();
    let security_keys = SecurityKeySettings {
        origins: url::Url::parse(&format!("http://localhost:{port}"))
            .into_iter()
            .collect(),
        ..SecurityKeySettings::default()
    };
    let state = AppState::with_default_policies(
        store,
        security_keys,
        Sealing {
            provider,
            rotation: RotationPolicy::default(),
        },
    )
    .await
    .map_err(|e| failed("cannot start the local backend", &e))?;
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let backend = Backend::bind(
        state.clone(),
        addr,
        Transport::Plain {
            allow_insecure: false,
        },
    )
    .await
    .map_err(|e| failed("cannot listen on loopback", &e))?;
    let bound = backend
        .local_addr()
        .map_err(|e| failed("cannot listen on loopback", &e))?;
    let setup_token = schild_server::auth::setup::issue_token_if_needed(&state)
        .await
        .map_err(|e| failed("cannot issue the setup token", &e))?
        .map(|token| SecretString::from(token.expose().to_owned()));

    let (stop, stopped) = oneshot::channel::<()>();
    let sweeper = tokio::spawn(schild_server::access::sweep::run(
        state,
        ReviewSchedule::default(),
    ));
    tokio::spawn(async move {
        let served = backend
            .run(async {
                let _ = stopped.await;
            })
            .await;
        sweeper.abort();
        if let Err(error) = served {
            tracing::error!(%error, "the local backend stopped");
        }
    });
    tracing::info!(%bound, "local backend listening");
    Ok(LocalBackend {
        url: format!("http://{bound}"),
        setup_token,
        _stop: stop,
    })
}
