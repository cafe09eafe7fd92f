//! `schild vault …`: the local key vault from the command line — create it, store and read
//! secrets, manage its unlock methods, and rotate its KEK.
//!
//! The vault lives in the desktop's local database (`local.db` in the data directory unless
//! `--database-url` names another). Values are read from standard input or a file, never from the
//! command line (which other users can see in the process list), and written raw to standard
//! output.

mod unlock;

use anyhow::Context;
use schild_core::clock::{Clock as _, SystemClock};
use schild_core::vault::RotationPolicy;
use schild_store::Store;
use schild_vault::{NewVault, RotationState, UnlockedVault, VaultStatus};
use std::io::{IsTerminal as _, Read as _, Write as _};
use std::path::PathBuf;
use std::sync::Arc;
use time::Duration;

/// Vault commands.
#[derive(Debug, clap::Args)]
pub struct VaultArgs {
    /// The vault's id.
    #[arg(long, env = "SCHILD_VAULT", default_value = "desktop", global = true)]
    vault: String,

    /// The database holding the vault. Default: local.db in the data directory.
    #[arg(long, env = "SCHILD_VAULT_DATABASE_URL", global = true)]
    database_url: Option<String>,

    /// Unlock with this unlock method (its id, see `status`). Default: the first that needs no
    /// typing (keyring, HSM with SCHILD_HSM_PIN set), else the first method.
    #[arg(long, env = "SCHILD_VAULT_UNLOCK", global = true)]
    unlock_with: Option<String>,

    #[command(flatten)]
    devices: unlock::Devices,

    #[command(subcommand)]
    command: VaultCommand,
}

#[derive(Debug, clap::Subcommand)]
enum VaultCommand {
    /// Create the vault with its first unlock method.
    Init {
        /// Its display name.
        #[arg(long, default_value = "Schild vault")]
        name: String,
        #[command(flatten)]
        method: unlock::NewMethodArgs,
        /// Days between automatic KEK rotations.
        #[arg(long, default_value_t = 90)]
        rotation_days: u32,
        /// Seconds without use before the vault locks.
        #[arg(long, default_value_t = 300)]
        auto_lock_secs: u32,
    },
    /// Unlock for this login session (no passphrase for later commands until the vault sits
    /// idle for its auto-lock time, or is locked), and finish or start a rotation that is due.
    Unlock {
        /// Only check that the vault unlocks; open no session.
        #[arg(long)]
        no_session: bool,
    },
    /// End every open session: later commands ask for an unlock method again.
    Lock,
    /// Store a secret read from standard input (or --file).
    Put {
        /// The item's name.
        name: String,
        /// What it is for (bound into its encryption).
        #[arg(long, default_value = "secret")]
        purpose: String,
        /// Read the value from this file instead of standard input.
        #[arg(long)]
        file: Option<PathBuf>,
        /// Replace an existing item of this name (new data key).
        #[arg(long)]
        replace: bool,
    },
    /// Write a secret to standard output.
    Get {
        /// The item's name.
        name: String,
    },
    /// List the items (never their values).
    List {
        /// As JSON.
        #[arg(long)]
        json: bool,
    },
    /// Delete an item: its data key and ciphertext are destroyed.
    Rm {
        /// The item's name.
        name: String,
    },
    /// Rotate the KEK now (or resume an unfinished rotation), re-wrapping every item.
    Rotate {
        /// Items re-wrapped per transaction.
        #[arg(long, default_value_t = 500)]
        batch: u32,
    },
    /// Give an item a fresh data key (data re-keying).
    Rekey {
        /// The item's name.
        name: String,
    },
    /// Show key versions, rotation and unlock methods (no unlocking needed).
    Status {
        /// As JSON.
        #[arg(long)]
        json: bool,
    },
    /// Add an unlock method (unlocks with an existing one first).
    AddUnlock {
        #[command(flatten)]
        method: unlock::NewMethodArgs,
    },
    /// Remove an unlock method (never the last one).
    RemoveUnlock {
        /// The method's id.
        id: String,
    },
}

/// Runs a vault command.
pub async fn run(args: VaultArgs) -> anyhow::Result<()> {
    let store = open_store(args.database_url.as_deref()).await?;
    let clock = Arc::new(SystemClock);
    let unlock_by = || {
        unlock::unlock(
            store.clone(),
            clock.clone(),
            &args.vault,
            args.unlock_with.as_deref(),
            &args.devices,
        )
    };
    let unlock = || async { unlock_by().await.map(|(vault, _)| vault) };
    match args.command {
        VaultCommand::Init {
            name,
            method,
            rotation_days,
            auto_lock_secs,
        } => {
            let new = NewVault {
                id: &args.vault,
                name: &name,
                rotation: RotationPolicy {
                    interval: Duration::days(i64::from(rotation_days)),
                },
                auto_lock: Duration::seconds(i64::from(auto_lock_secs)),
            };
            let made = unlock::new_method(&args.vault, &method, &args.devices).await?;
            UnlockedVault::init(
                store.clone(),
                clock.clone(),
                new,
                &made.id,
                &made.label,
                &made.params,
                made.key.as_ref(),
            )
            .await
            .map_err(explain)?;
            println!(
                "Created vault {:?}, unlocked by {:?} ({}).",
                args.vault,
                made.id,
                made.params.kind()
            );
        }
        VaultCommand::Unlock { no_session } => {
            let (vault, by) = unlock_by().await?;
            let status = vault.status().await.map_err(explain)?;
            if status.needs_rotation() {
                rotate(&vault, 500).await?;
            }
            let idle = status.auto_lock_secs;
            if by.is_session() {
                println!(
                    "Vault {:?} is unlocked ({} items); it locks after {idle} s unused, or with `schild vault lock`.",
                    args.vault, status.items
                );
            } else if no_session {
                println!("Vault {:?} unlocks; {} items.", args.vault, status.items);
            } else {
                match unlock::open_session(&vault).await {
                    Ok(_) => println!(
                        "Vault {:?} unlocked for this login session ({} items); it locks after {idle} s unused, or with `schild vault lock`.",
                        args.vault, status.items
                    ),
                    Err(error) => println!(
                        "Vault {:?} unlocks ({} items), but no session could be opened ({error}); each command will unlock for itself.",
                        args.vault, status.items
                    ),
                }
            }
        }
        VaultCommand::Lock => {
            let status = schild_vault::status(&store, &args.vault, clock.now())
                .await
                .map_err(explain)?;
            let sessions: Vec<_> = status
                .unlock_methods
                .iter()
                .filter(|m| m.is_session())
                .collect();
            for session in &sessions {
                unlock::end_session(&store, &args.vault, session).await?;
            }
            match sessions.len() {
                0 => println!("Vault {:?} had no open session.", args.vault),
                n => println!("Vault {:?} locked: {n} session(s) ended.", args.vault),
            }
        }
        VaultCommand::Put {
            name,
            purpose,
            file,
            replace,
        } => {
            let value = read_value(file.as_deref())?;
            let vault = unlock().await?;
            vault
                .put(&name, &purpose, &value, replace)
                .await
                .map_err(explain)?;
            eprintln!("Stored {name:?} ({} bytes).", value.len());
        }
        VaultCommand::Get { name } => {
            let vault = unlock().await?;
            let value = vault.get(&name).await.map_err(explain)?;
            let mut out = std::io::stdout().lock();
            out.write_all(&value)
                .and_then(|()| out.flush())
                .context("cannot write the value")?;
        }
        VaultCommand::List { json } => {
            let vault = unlock().await?;
            let items = vault.list().await.map_err(explain)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&items)?);
            } else if items.is_empty() {
                println!("The vault is empty.");
            } else {
                println!("{:<32} {:<24} {:>4}  UPDATED", "NAME", "PURPOSE", "KEK");
                for item in items {
                    println!(
                        "{:<32} {:<24} {:>4}  {}",
                        item.name,
                        item.purpose,
                        format!("v{}", item.key_version),
                        crate::console::rfc3339(item.updated_at)
                    );
                }
            }
        }
        VaultCommand::Rm { name } => {
            let vault = unlock().await?;
            vault.remove(&name).await.map_err(explain)?;
            println!("Deleted {name:?}: its data key and ciphertext are destroyed.");
        }
        VaultCommand::Rotate { batch } => {
            let vault = unlock().await?;
            rotate(&vault, batch).await?;
        }
        VaultCommand::Rekey { name } => {
            let vault = unlock().await?;
            vault.rekey(&name).await.map_err(explain)?;
            println!("{name:?} has a fresh data key.");
        }
        VaultCommand::Status { json } => {
            let status = schild_vault::status(&store, &args.vault, time::OffsetDateTime::now_utc())
                .await
                .map_err(explain)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&status)?);
            } else {
                print_status(&status);
            }
        }
        VaultCommand::AddUnlock { method } => {
            let vault = unlock().await?;
            let made = unlock::new_method(&args.vault, &method, &args.devices).await?;
            vault
                .add_unlock_method(&made.id, &made.label, &made.params, made.key.as_ref())
                .await
                .map_err(explain)?;
            println!(
                "Added unlock method {:?} ({}).",
                made.id,
                made.params.kind()
            );
        }
        VaultCommand::RemoveUnlock { id } => {
            let vault = unlock().await?;
            vault.remove_unlock_method(&id).await.map_err(explain)?;
            println!("Removed unlock method {id:?}.");
        }
    }
    Ok(())
}

async fn open_store(url: Option<&str>) -> anyhow::Result<Store> {
    let url = match url {
        Some(url) => url.to_owned(),
        None => {
            let dir = schild_store::data_dir()
                .context("cannot find a data directory: set SCHILD_DATA_DIR or --database-url")?;
            std::fs::create_dir_all(&dir)
                .with_context(|| format!("cannot create the data directory {}", dir.display()))?;
            format!("sqlite://{}", dir.join("local.db").display())
        }
    };
    Store::connect(&url)
        .await
        .context("cannot open the vault database")
}

fn read_value(file: Option<&std::path::Path>) -> anyhow::Result<zeroize::Zeroizing<Vec<u8>>> {
    let mut value = zeroize::Zeroizing::new(Vec::new());
    match file {
        Some(path) => {
            std::fs::File::open(path)
                .and_then(|mut f| f.read_to_end(&mut value))
                .with_context(|| format!("cannot read {}", path.display()))?;
        }
        None => {
            if std::io::stdin().is_terminal() {
                eprintln!("Type the value, then Ctrl-D:");
            }
            std::io::stdin()
                .read_to_end(&mut value)
                .context("cannot read the value from standard input")?;
        }
    }
    if value.is_empty() {
        anyhow::bail!("the value is empty; nothing was stored");
    }
    Ok(value)
}

/// Rotates with a progress line on standard error.
async fn rotate(vault: &UnlockedVault, batch: u32) -> anyhow::Result<()> {
    let interactive = std::io::stderr().is_terminal();
    let report = vault
        .rotate(batch, |p| {
            let percent = (p.done * 100).checked_div(p.total).unwrap_or(100);
            let line = format!(
                "re-wrapping to KEK v{}: {}/{} items ({percent}%)",
                p.to_version, p.done, p.total
            );
            if interactive {
                eprint!("\r{line}");
            } else {
                eprintln!("{line}");
            }
        })
        .await
        .map_err(explain)?;
    if interactive && report.rewrapped > 0 {
        eprintln!();
    }
    let retired = if report.retired.is_empty() {
        "none".to_owned()
    } else {
        report
            .retired
            .iter()
            .map(|v| format!("v{v}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    println!(
        "{} rotation to KEK v{}: {} items re-wrapped; retired: {retired}.",
        if report.began {
            "Finished"
        } else {
            "Resumed and finished"
        },
        report.version,
        report.rewrapped
    );
    Ok(())
}

fn print_status(status: &VaultStatus) {
    println!("Vault {:?} ({})", status.id, status.name);
    println!("  items:           {}", status.items);
    println!("  current KEK:     v{}", status.current_version);
    for version in &status.versions {
        println!(
            "    v{:<4} {:>8} items  {:>10} wraps  since {}",
            version.version,
            version.items,
            version.wraps,
            crate::console::rfc3339(version.created_at)
        );
    }
    let rotation = match status.rotation {
        RotationState::UpToDate => "up to date",
        RotationState::DueByAge => {
            "DUE (the KEK is older than the interval): run `schild vault rotate`"
        }
        RotationState::DueByUsage => {
            "DUE (the KEK reached its usage bound): run `schild vault rotate`"
        }
        RotationState::Unfinished => "UNFINISHED: run `schild vault rotate` to resume",
    };
    println!(
        "  rotation:        every {} days, {rotation}",
        status.rotation_days
    );
    println!(
        "  auto-lock:       after {} s without use",
        status.auto_lock_secs
    );
    println!("  unlock methods:");
    for method in &status.unlock_methods {
        println!(
            "    {:<20} {:<13} {}",
            method.id,
            method.params.kind(),
            method.label
        );
    }
}

/// One line for the person: what happened, and what to do where it is not obvious.
fn explain(error: schild_vault::Error) -> anyhow::Error {
    anyhow::anyhow!("{error}")
}
