//! The real backend for the client's tests: `schild-server` over `server.db` and its root key
//! file in a directory, on a loopback port, stopped (and its database closed) on request.

use schild_server::AppState;
use schild_server::auth::security_keys::SecurityKeySettings;
use schild_server::sealing::Sealing;
use schild_server::serve::{Backend, Transport};
use schild_store::Store;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::Path;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// A running backend.
pub struct Running {
    /// Where it listens.
    pub addr: SocketAddr,
    /// Its state (for the setup token).
    pub state: AppState,
    stop: oneshot::Sender<()>,
    served: JoinHandle<()>,
}

/// Starts the backend over `dir` on `port` (0: any free one).
pub async fn start(dir: &Path, port: u16, transport: Transport) -> Running {
    let store = Store::connect(&format!("sqlite://{}", dir.join("server.db").display()))
        .await
        .unwrap();
    let sealing = Sealing {
        provider: schild_server::key_file::load_or_create(&dir.join("server.kek")).unwrap(),
        rotation: schild_core::vault::RotationPolicy::default(),
    };
    let state = AppState::with_default_policies(store, SecurityKeySettings::default(), sealing)
        .await
        .unwrap();
    let backend = Backend::bind(
        state.clone(),
        SocketAddr::from((Ipv4Addr::LOCALHOST, port)),
        transport,
    )
    .await
    .unwrap();
    let addr = backend.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    let served = tokio::spawn(async move {
        backend
            .run(async {
                let _ = stopped.await;
            })
            .await
            .unwrap();
    });
    Running {
        addr,
        state,
        stop,
        served,
    }
}

impl Running {
    /// Stops serving and closes the database, so the backend can start again over it.
    pub async fn stop(self) {
        let _ = self.stop.send(());
        self.served.await.unwrap();
        self.state.store().close().await;
    }
}
