//! `schild hsm …`: PKCS#11 HSMs from the command line — list slots and keys, generate keys,
//! sign a file, and self-test a token. Every device call blocks, so `main` runs this on a
//! blocking thread.

mod selftest;

use anyhow::Context;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use schild_hwkey::hsm::{
    DEFAULT_MODULE, HsmError, KeyKind, KeyLabel, Module, SlotSummary, Token, TokenSummary,
};
use secrecy::SecretString;
use std::path::PathBuf;

/// The environment variable that holds the user PIN for non-interactive use.
pub const PIN_VAR: &str = "SCHILD_HSM_PIN";

/// HSM commands.
#[derive(Debug, clap::Args)]
pub struct HsmArgs {
    /// The PKCS#11 module (the HSM vendor's shared library).
    #[arg(long, env = "SCHILD_PKCS11_MODULE", default_value = DEFAULT_MODULE, global = true)]
    module: PathBuf,

    #[command(subcommand)]
    command: HsmCommand,
}

#[derive(Debug, clap::Subcommand)]
enum HsmCommand {
    /// List the module's slots and the tokens in them (no PIN needed).
    Slots,
    /// List the keys on a token.
    Keys {
        /// The token's label.
        #[arg(long)]
        token: String,
    },
    /// Generate a non-extractable key on a token; prints the public key of a signing key.
    Generate {
        /// The token's label.
        #[arg(long)]
        token: String,
        /// What kind of key.
        #[arg(long, value_enum)]
        kind: KindArg,
        /// The new key's label (unique on the token).
        #[arg(long)]
        label: String,
    },
    /// Sign a file with a P-256 or Ed25519 key; prints the signature in base64.
    Sign {
        /// The token's label.
        #[arg(long)]
        token: String,
        /// The signing key's label.
        #[arg(long)]
        key: String,
        /// The file to sign.
        file: PathBuf,
    },
    /// Self-test a token with temporary keys: generate, wrap/unwrap, sign/verify, delete.
    Test {
        /// The token's label.
        #[arg(long)]
        token: String,
    },
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum KindArg {
    /// AES-256, to wrap data keys.
    Aes256,
    /// ECDSA P-256, to sign.
    P256,
    /// Ed25519, to sign.
    Ed25519,
}

impl From<KindArg> for KeyKind {
    fn from(kind: KindArg) -> Self {
        match kind {
            KindArg::Aes256 => Self::Aes256,
            KindArg::P256 => Self::P256,
            KindArg::Ed25519 => Self::Ed25519,
        }
    }
}

/// Runs one HSM command.
pub fn run(args: HsmArgs) -> anyhow::Result<()> {
    let module = Module::open(&args.module).map_err(explain)?;
    match args.command {
        HsmCommand::Slots => print_slots(&module)?,
        HsmCommand::Keys { token } => {
            let token = login(&module, &token)?;
            let keys = token.keys().map_err(explain)?;
            if keys.is_empty() {
                println!("No keys on token {:?}.", token.label());
            } else {
                println!("{:<32}  {:<8}  ID", "LABEL", "KIND");
            }
            for key in keys {
                let kind = key.kind.map_or("other", KeyKind::as_str);
                println!("{:<32}  {:<8}  {}", key.label, kind, key.id_hex());
            }
        }
        HsmCommand::Generate { token, kind, label } => {
            let label = KeyLabel::new(label).map_err(explain)?;
            let token = login(&module, &token)?;
            let made = token.generate(kind.into(), &label).map_err(explain)?;
            println!(
                "Generated {} key {:?} (id {}) on token {:?}.",
                KeyKind::from(kind).describe(),
                made.label,
                made.id_hex(),
                token.label()
            );
            if made.kind.and_then(KeyKind::signature_algorithm).is_some() {
                let public = token.public_key(&label).map_err(explain)?;
                println!("Public key (base64): {}", BASE64.encode(&public.bytes));
            }
        }
        HsmCommand::Sign { token, key, file } => {
            let key = KeyLabel::new(key).map_err(explain)?;
            let message =
                std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
            let token = login(&module, &token)?;
            let signature = token.sign(&key, &message).map_err(explain)?;
            println!("{}", BASE64.encode(signature));
        }
        HsmCommand::Test { token } => {
            let token = login(&module, &token)?;
            selftest::run(&token)?;
        }
    }
    Ok(())
}

fn print_slots(module: &Module) -> anyhow::Result<()> {
    let info = module.info().map_err(explain)?;
    println!(
        "Module {}: {} {} ({})",
        module.path().display(),
        info.manufacturer,
        info.version,
        info.description
    );
    let slots = module.slots().map_err(explain)?;
    if slots.is_empty() {
        println!("No slots.");
    }
    for SlotSummary { id, token, .. } in slots {
        match token {
            None => println!("slot {id}: empty"),
            Some(token) if !token.initialized => println!(
                "slot {id}: uninitialised token ({}, {})",
                token.manufacturer, token.model
            ),
            Some(token) => {
                println!(
                    "slot {id}: token {:?} ({}, {}, serial {})",
                    token.label, token.manufacturer, token.model, token.serial
                );
                println!("  {}", flags(&token));
                if let Some(memory) = memory(&token) {
                    println!("  memory: {memory}");
                }
            }
        }
    }
    Ok(())
}

fn flags(token: &TokenSummary) -> String {
    let mut flags = vec!["initialised"];
    flags.push(if token.user_pin_initialized {
        "user PIN set"
    } else {
        "no user PIN yet"
    });
    if token.login_required {
        flags.push("login required");
    }
    if token.write_protected {
        flags.push("write-protected");
    }
    if token.user_pin_locked {
        flags.push("user PIN LOCKED");
    }
    flags.join(", ")
}

fn memory(token: &TokenSummary) -> Option<String> {
    let part = |name: &str, free: Option<usize>, total: Option<usize>| match (free, total) {
        (Some(free), Some(total)) => Some(format!("{name} {free} of {total} bytes free")),
        (Some(free), None) => Some(format!("{name} {free} bytes free")),
        _ => None,
    };
    let parts: Vec<String> = [
        part(
            "private",
            token.free_private_memory,
            token.total_private_memory,
        ),
        part(
            "public",
            token.free_public_memory,
            token.total_public_memory,
        ),
    ]
    .into_iter()
    .flatten()
    .collect();
    (!parts.is_empty()).then(|| parts.join(", "))
}

/// Logs in with the PIN from `SCHILD_HSM_PIN`, or asked for on the terminal.
pub fn login(module: &Module, label: &str) -> anyhow::Result<Token> {
    let pin = match std::env::var(PIN_VAR) {
        Ok(pin) => SecretString::from(pin),
        Err(_) => rpassword::prompt_password(format!("User PIN for token {label:?}: "))
            .map(SecretString::from)
            .with_context(|| format!("cannot read the PIN: set {PIN_VAR} or run in a terminal"))?,
    };
    module.login(label, &pin).map_err(explain)
}

/// One line for the operator: what happened, then what to do.
pub fn explain(error: HsmError) -> anyhow::Error {
    anyhow::anyhow!("{error}. {}", error.recommendation())
}
