//! `schild`: run the security backend and administer it from its host.
#![forbid(unsafe_code)]

mod access;
mod admin;
mod apikey;
mod config;
mod console;
mod hsm;
mod key;
mod pii;
mod retention;
mod review;
mod roles;
mod vault;

use anyhow::Context;
use clap::{Parser, Subcommand, ValueEnum};
use schild_core::authenticator::{Aaguid, ModelAllowlist, SecurityKeyPolicy};
use schild_core::rbac::review::ReviewSchedule;
use schild_server::auth::security_keys::SecurityKeySettings;
use schild_server::{Backend, TlsFiles, Transport};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

/// Schild: security administration — the backend and its console.
#[derive(Debug, Parser)]
#[command(name = "schild", version, about, long_about = None)]
struct Cli {
    /// Log format on stderr.
    #[arg(long, value_enum, default_value_t = LogFormat::Text, env = "SCHILD_LOG_FORMAT", global = true)]
    log_format: LogFormat,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line, for log shippers.
    Json,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the backend (SQLite in the user's data directory unless --database-url says otherwise).
    Serve(ServeArgs),
    /// Administer accounts, sessions and blocks directly in the database.
    Admin(admin::AdminArgs),
    /// Roles and permissions: list, define custom roles, assign and unassign.
    Roles(roles::RolesArgs),
    /// Just-in-time access to a role or permission: request, approve, deny, revoke, list.
    Access(access::AccessArgs),
    /// Access reviews: start a campaign, list campaigns, decide items, export a report.
    Review(review::ReviewArgs),
    /// API keys of machine clients: issue one for oneself, list, revoke.
    Apikey(apikey::ApiKeyArgs),
    /// Data retention: policies, legal holds, and the purge (with a dry run).
    Retention(retention::RetentionArgs),
    /// FIDO2 security keys: list, info, PIN, fingerprints, passkeys, reset, and issuing a key.
    Key(key::KeyArgs),
    /// PKCS#11 HSMs: list slots and keys, generate, sign, self-test.
    Hsm(hsm::HsmArgs),
    /// The local key vault: store and read secrets, unlock methods, KEK rotation.
    Vault(vault::VaultArgs),
    /// Personal data in files: find it, or write masked copies.
    Pii(pii::PiiArgs),
}

#[derive(Debug, clap::Args)]
struct ServeArgs {
    #[command(flatten)]
    database: config::DatabaseArgs,

    /// Address to listen on. Plain HTTP is only allowed on loopback addresses.
    #[arg(long, default_value = "127.0.0.1:8700", env = "SCHILD_LISTEN")]
    listen: SocketAddr,

    /// PEM certificate chain; with --tls-key, serves TLS 1.3 only.
    #[arg(long, requires = "tls_key", env = "SCHILD_TLS_CERT")]
    tls_cert: Option<PathBuf>,

    /// PEM private key for --tls-cert.
    #[arg(long, requires = "tls_cert", env = "SCHILD_TLS_KEY")]
    tls_key: Option<PathBuf>,

    /// Allow plain HTTP on a non-loopback address (only behind a TLS-terminating proxy).
    #[arg(long, env = "SCHILD_ALLOW_INSECURE_HTTP")]
    allow_insecure_http: bool,

    /// WebAuthn relying-party id: the domain security keys are bound to.
    #[arg(long, default_value = "localhost", env = "SCHILD_WEBAUTHN_RP_ID")]
    webauthn_rp_id: String,

    /// Origin security-key clients sign from (repeatable, comma-separated in the environment).
    /// Default: this server's own address under the relying-party id.
    #[arg(long, env = "SCHILD_WEBAUTHN_ORIGIN", value_delimiter = ',')]
    webauthn_origin: Vec<url::Url>,

    /// Register only security keys whose attestation chains to a bundled vendor root (today:
    /// Yubico), proving their model.
    #[arg(long, env = "SCHILD_WEBAUTHN_REQUIRE_ATTESTATION")]
    require_attestation: bool,

    /// Allow only security keys of this model (its AAGUID; repeatable, comma-separated in the
    /// environment). Default: any model.
    #[arg(
        long = "allow-key-model",
        value_name = "AAGUID",
        env = "SCHILD_ALLOWED_KEY_MODELS",
        value_delimiter = ','
    )]
    allowed_key_models: Vec<Aaguid>,
}

impl ServeArgs {
    /// How the backend acts as WebAuthn relying party.
    fn security_keys(&self) -> SecurityKeySettings {
        let origins = if self.webauthn_origin.is_empty() {
            let scheme = if self.tls_cert.is_some() {
                "https"
            } else {
                "http"
            };
            let own = format!("{scheme}://{}:{}", self.webauthn_rp_id, self.listen.port());
            url::Url::parse(&own).into_iter().collect()
        } else {
            self.webauthn_origin.clone()
        };
        SecurityKeySettings {
            rp_id: self.webauthn_rp_id.clone(),
            origins,
            attestation_roots: self
                .require_attestation
                .then(schild_server::auth::security_keys::roots::bundled),
            policy: SecurityKeyPolicy {
                allowed_models: if self.allowed_key_models.is_empty() {
                    ModelAllowlist::Any
                } else {
                    ModelAllowlist::Only(self.allowed_key_models.iter().copied().collect())
                },
                ..SecurityKeyPolicy::default()
            },
            ..SecurityKeySettings::default()
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.log_format);
    // Scanning files needs no runtime or database, and has its own exit statuses (1 for
    // findings, 2 for errors).
    let command = match cli.command {
        Command::Pii(args) => return pii::run(args),
        other => other,
    };
    let outcome = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(anyhow::Error::from)
        .and_then(|runtime| {
            runtime.block_on(async move {
                match command {
                    Command::Serve(args) => serve(args).await,
                    Command::Admin(args) => admin::run(args).await,
                    Command::Roles(args) => roles::run(args).await,
                    Command::Access(args) => access::run(args).await,
                    Command::Review(args) => review::run(args).await,
                    Command::Apikey(args) => apikey::run(args).await,
                    Command::Retention(args) => retention::run(args).await,
                    Command::Key(args) => key::run(args).await,
                    Command::Vault(args) => vault::run(args).await,
                    Command::Hsm(args) => tokio::task::spawn_blocking(move || hsm::run(args))
                        .await
                        .map_err(anyhow::Error::from)
                        .and_then(|outcome| outcome),
                    Command::Pii(_) => unreachable!("handled before the runtime starts"),
                }
            })
        });
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            // The chain of causes on one line, no backtrace: this is for the operator.
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn,tower_http=info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().flatten_event(true).init(),
    }
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let state = config::open_state_with(&args.database, args.security_keys()).await?;
    let transport = match (args.tls_cert, args.tls_key) {
        (Some(cert), Some(key)) => Transport::Tls(TlsFiles { cert, key }),
        _ => Transport::Plain {
            allow_insecure: args.allow_insecure_http,
        },
    };
    let backend = Backend::bind(state.clone(), args.listen, transport).await?;
    let addr = backend.local_addr()?;
    let scheme = if backend.is_tls() { "https" } else { "http" };
    tracing::info!(%addr, database = %args.database.redacted(), "Schild backend listening");
    println!(
        "Schild backend on {scheme}://{addr}  (API document: {scheme}://{addr}/api/v1/openapi.json)"
    );
    if let Some(token) = schild_server::auth::setup::issue_token_if_needed(&state)
        .await
        .context("could not issue the first-admin setup token")?
    {
        admin::print_setup_token(&token, &format!("{scheme}://{addr}"));
    }
    let sweeper = tokio::spawn(schild_server::access::sweep::run(
        state.clone(),
        ReviewSchedule::default(),
    ));
    let served = backend.run(shutdown_signal()).await;
    sweeper.abort();
    served?;
    tracing::info!("Schild backend stopped");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
