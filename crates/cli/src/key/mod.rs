//! `schild key …`: manage the FIDO2 security key plugged into this machine (USB or NFC), or the
//! virtual key kept in a file (`--virtual PATH`), and issue keys to people.
//!
//! Every command works on exactly one key: with none connected it says so and fails, with
//! several it asks to unplug the others. PINs are read from the terminal (or `SCHILD_KEY_PIN`,
//! `SCHILD_KEY_NEW_PIN` for scripts); touches and fingerprint samples are prompted on stderr.

mod enroll;
pub(crate) mod prompt;

use anyhow::{Context, bail};
use prompt::{ConsoleObserver, read_pin};
use schild_hwkey::ctap::{
    AnyKey, CredentialId, Discovery, FingerprintId, KeyError, KeyInfo, PinPolicy, RESET_WINDOW,
    SecurityKey, the_only_key,
};
use std::path::PathBuf;
use std::sync::Arc;

/// Security-key commands.
#[derive(Debug, clap::Args)]
pub struct KeyArgs {
    /// Use the virtual key kept in this file (created when missing) instead of hardware. Demo and
    /// tests only: the file holds the key's private keys.
    #[arg(
        long = "virtual",
        value_name = "PATH",
        global = true,
        env = "SCHILD_VIRTUAL_KEY"
    )]
    virtual_key: Option<PathBuf>,

    #[command(subcommand)]
    command: KeyCommand,
}

#[derive(Debug, clap::Subcommand)]
enum KeyCommand {
    /// List connected keys.
    List,
    #[command(flatten)]
    OneKey(OneKeyCommand),
}

/// Commands on the one connected key.
#[derive(Debug, clap::Subcommand)]
enum OneKeyCommand {
    /// Show what the key says about itself.
    Info,
    /// Set or change the key's PIN.
    Pin {
        #[command(subcommand)]
        command: PinCommand,
    },
    /// Fingerprints on a biometric key.
    Fingerprint {
        #[command(subcommand)]
        command: FingerprintCommand,
    },
    /// Discoverable credentials (passkeys) stored on the key.
    Credentials {
        #[command(subcommand)]
        command: CredentialCommand,
    },
    /// Erase the key: every credential, fingerprint and the PIN. Needs the key freshly plugged in.
    Reset,
    /// Issue the key to a person: PIN, fingerprints, registration with the backend, inventory.
    Enroll(Box<enroll::EnrollArgs>),
}

#[derive(Debug, clap::Subcommand)]
enum PinCommand {
    /// Set the first PIN of a key that has none.
    Set,
    /// Change the PIN.
    Change,
}

#[derive(Debug, clap::Subcommand)]
enum FingerprintCommand {
    /// Enroll a fingerprint, one touch per sample.
    Add {
        /// A name for it ("right index").
        #[arg(long)]
        name: Option<String>,
    },
    /// List enrolled fingerprints.
    List,
    /// Rename a fingerprint.
    Rename {
        /// Its id, as listed.
        id: String,
        /// The new name.
        name: String,
    },
    /// Remove a fingerprint.
    Delete {
        /// Its id, as listed.
        id: String,
    },
}

#[derive(Debug, clap::Subcommand)]
enum CredentialCommand {
    /// List discoverable credentials, by relying party.
    List,
    /// Delete one credential.
    Delete {
        /// Its id, as listed.
        id: String,
    },
}

/// Runs a `schild key` command.
pub async fn run(args: KeyArgs) -> anyhow::Result<()> {
    let discovery = Discovery {
        virtual_key: args.virtual_key.clone(),
        ..Discovery::hardware()
    };
    let command = match args.command {
        KeyCommand::List => return list(&discovery).await,
        KeyCommand::OneKey(command) => command,
    };
    let mut key = open(&discovery).await?;
    match command {
        OneKeyCommand::Info => {
            print_info(key.info());
            Ok(())
        }
        OneKeyCommand::Pin { command } => pin(&mut key, command).await,
        OneKeyCommand::Fingerprint { command } => fingerprint(&mut key, command).await,
        OneKeyCommand::Credentials { command } => credentials(&mut key, command).await,
        OneKeyCommand::Reset => reset(&mut key).await,
        OneKeyCommand::Enroll(enroll_args) => enroll::run(&mut key, *enroll_args).await,
    }
}

/// A key error for the operator: what happened, then what to do.
pub(crate) fn explain(error: KeyError) -> anyhow::Error {
    anyhow::anyhow!("{error}. {}", error.recommendation())
}

/// Opens the one connected key (or the virtual one), prompting on the console.
pub(crate) async fn open(discovery: &Discovery) -> anyhow::Result<SecurityKey<AnyKey>> {
    let token = the_only_key(discovery).await.map_err(explain)?;
    SecurityKey::open(token, Arc::new(ConsoleObserver))
        .await
        .map_err(explain)
}

async fn list(discovery: &Discovery) -> anyhow::Result<()> {
    let keys = schild_hwkey::ctap::connected_keys(discovery)
        .await
        .map_err(explain)?;
    if keys.is_empty() {
        return Err(explain(KeyError::NoKeyFound));
    }
    for token in keys {
        let key = SecurityKey::open(token, Arc::new(ConsoleObserver))
            .await
            .map_err(explain)?;
        let info = key.info();
        println!(
            "{:<8} {:<40} {}",
            info.transport.to_string(),
            info.model.unwrap_or("unknown model"),
            info.aaguid.map(|a| a.to_string()).unwrap_or_default()
        );
    }
    Ok(())
}

fn yes_no(value: Option<bool>, unsupported: &str) -> String {
    match value {
        Some(true) => "yes".into(),
        Some(false) => "no".into(),
        None => unsupported.into(),
    }
}

fn print_info(info: &KeyInfo) {
    println!("model          {}", info.model.unwrap_or("unknown model"));
    if let Some(aaguid) = info.aaguid {
        println!("AAGUID         {aaguid}");
    }
    println!("transport      {}", info.transport);
    println!("CTAP versions  {}", info.versions.join(", "));
    println!("extensions     {}", info.extensions.join(", "));
    if let Some(firmware) = info.firmware_version {
        println!("firmware       {firmware}");
    }
    println!(
        "PIN set        {}",
        yes_no(info.options.client_pin, "not supported")
    );
    if let Some(retries) = info.pin_retries {
        println!("PIN retries    {retries}");
    }
    println!("minimum PIN    {} characters", info.min_pin_length);
    println!(
        "fingerprints   {}",
        yes_no(info.options.bio_enroll, "no sensor")
    );
    println!(
        "always UV      {}",
        yes_no(info.options.always_uv, "not supported")
    );
    println!(
        "credential management  {}",
        if info.options.cred_mgmt { "yes" } else { "no" }
    );
    if let Some(left) = info.remaining_discoverable_credentials {
        println!("room for       {left} more passkeys");
    }
}

async fn pin(key: &mut SecurityKey<AnyKey>, command: PinCommand) -> anyhow::Result<()> {
    let policy = PinPolicy::default();
    match command {
        PinCommand::Set => {
            let new = read_pin("SCHILD_KEY_NEW_PIN", "New PIN", true)?;
            key.set_pin(&new, &policy).await.map_err(explain)?;
            println!("PIN set.");
        }
        PinCommand::Change => {
            let current = read_pin("SCHILD_KEY_PIN", "Current PIN", false)?;
            let new = read_pin("SCHILD_KEY_NEW_PIN", "New PIN", true)?;
            key.change_pin(&current, &new, &policy)
                .await
                .map_err(explain)?;
            println!("PIN changed.");
        }
    }
    Ok(())
}

async fn fingerprint(
    key: &mut SecurityKey<AnyKey>,
    command: FingerprintCommand,
) -> anyhow::Result<()> {
    let pin = read_pin("SCHILD_KEY_PIN", "PIN", false)?;
    match command {
        FingerprintCommand::Add { name } => {
            eprintln!("Touch the sensor with the finger to enroll, lifting it between samples.");
            let id = key
                .enroll_fingerprint(&pin, name.as_deref())
                .await
                .map_err(explain)?;
            println!("Fingerprint enrolled: {id}");
        }
        FingerprintCommand::List => {
            let fingerprints = key.fingerprints(&pin).await.map_err(explain)?;
            if fingerprints.is_empty() {
                println!("No fingerprints enrolled.");
            }
            for fingerprint in fingerprints {
                println!(
                    "{}  {}",
                    fingerprint.id,
                    fingerprint.name.as_deref().unwrap_or("(unnamed)")
                );
            }
        }
        FingerprintCommand::Rename { id, name } => {
            let id: FingerprintId = id.parse().map_err(explain)?;
            key.rename_fingerprint(&pin, &id, &name)
                .await
                .map_err(explain)?;
            println!("Fingerprint renamed.");
        }
        FingerprintCommand::Delete { id } => {
            let id: FingerprintId = id.parse().map_err(explain)?;
            key.delete_fingerprint(&pin, &id).await.map_err(explain)?;
            println!("Fingerprint deleted.");
        }
    }
    Ok(())
}

async fn credentials(
    key: &mut SecurityKey<AnyKey>,
    command: CredentialCommand,
) -> anyhow::Result<()> {
    let pin = read_pin("SCHILD_KEY_PIN", "PIN", false)?;
    match command {
        CredentialCommand::List => {
            let parties = key.credentials(&pin).await.map_err(explain)?;
            if parties.is_empty() {
                println!("No passkeys stored on this key.");
            }
            for party in parties {
                println!(
                    "{}",
                    party
                        .rp_id
                        .as_deref()
                        .or(party.rp_name.as_deref())
                        .unwrap_or("(unnamed relying party)")
                );
                for credential in party.credentials {
                    println!(
                        "  {}  {}",
                        credential.id,
                        credential
                            .user_name
                            .as_deref()
                            .or(credential.user_display_name.as_deref())
                            .unwrap_or("(no user name)")
                    );
                }
            }
        }
        CredentialCommand::Delete { id } => {
            let id: CredentialId = id.parse().map_err(explain)?;
            key.delete_credential(&pin, &id).await.map_err(explain)?;
            println!("Credential deleted.");
        }
    }
    Ok(())
}

async fn reset(key: &mut SecurityKey<AnyKey>) -> anyhow::Result<()> {
    eprintln!(
        "Resetting erases every credential, fingerprint and the PIN on this key; accounts that \
         use it will need another key. A key accepts a reset only within {} seconds of being \
         plugged in, and only with a touch.",
        RESET_WINDOW.as_secs()
    );
    let confirmation =
        prompt::read_line("Type RESET to continue: ").context("cannot read the confirmation")?;
    if confirmation.trim() != "RESET" {
        bail!("reset cancelled: the confirmation did not match");
    }
    key.reset().await.map_err(explain)?;
    println!("The key was reset.");
    Ok(())
}
