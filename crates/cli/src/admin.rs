//! `schild admin …`: administration from the backend's own host, straight against its database.
//! Every action is audited like its API twin, with no signed-in actor (the console).

use crate::config::{self, DatabaseArgs};
use crate::console::{explain, find_user, rfc3339};
use anyhow::{Context, bail};
use schild_core::refresh::OpaqueToken;
use schild_server::auth::admin::{self, NewAccount};
use schild_server::auth::{Origin, setup, signing_keys};
use schild_store::sessions;
use secrecy::SecretString;
use std::io::BufRead;
use std::net::IpAddr;
use uuid::Uuid;

/// Administration commands.
#[derive(Debug, clap::Args)]
pub struct AdminArgs {
    #[command(flatten)]
    database: DatabaseArgs,

    #[command(subcommand)]
    command: AdminCommand,
}

#[derive(Debug, clap::Subcommand)]
enum AdminCommand {
    /// Create an account. The password is read from the terminal, or from stdin with --password-stdin.
    CreateUser {
        /// Sign-in name (3–64 of letters, digits and . _ - @).
        username: String,
        /// Name shown to people.
        #[arg(long)]
        display_name: String,
        /// Role to grant (admin or user); repeat for several.
        #[arg(long = "role", default_value = "user")]
        roles: Vec<String>,
        /// Read the password from the first line of stdin instead of prompting.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Lift an account's lock and clear its failed attempts.
    Unlock {
        /// Sign-in name.
        username: String,
    },
    /// List an account's sessions.
    Sessions {
        /// Sign-in name.
        username: String,
        /// Include ended sessions.
        #[arg(long)]
        all: bool,
    },
    /// End a session at once.
    ForceLogout {
        /// Session id (from `schild admin sessions`).
        session: Uuid,
    },
    /// Block an address from signing in.
    BlockIp {
        /// IPv4 or IPv6 address.
        ip: IpAddr,
        /// Duration in minutes.
        #[arg(long, default_value_t = 60)]
        minutes: u32,
        /// Why.
        #[arg(long, default_value = "")]
        note: String,
    },
    /// Lift an address block.
    UnblockIp {
        /// The address.
        ip: IpAddr,
    },
    /// Sign new tokens with a fresh key; the old key verifies until its tokens expire.
    RotateSigningKey,
    /// Print a fresh first-admin setup token (only while no account exists).
    SetupToken,
}

/// Runs one admin command.
pub async fn run(args: AdminArgs) -> anyhow::Result<()> {
    let state = config::open_state(&args.database).await?;
    let origin = Origin::console();
    match args.command {
        AdminCommand::CreateUser {
            username,
            display_name,
            roles,
            password_stdin,
        } => {
            let password = read_password(password_stdin)?;
            let user = admin::create_user(
                &state,
                NewAccount {
                    username,
                    display_name,
                    password,
                    roles,
                },
                &origin,
            )
            .await
            .map_err(explain)?;
            println!(
                "Created {} ({}) with roles {}",
                user.username,
                user.id,
                user.roles.join(", ")
            );
        }
        AdminCommand::Unlock { username } => {
            let user = find_user(&state, &username).await?;
            if admin::unlock(&state, user.id, &origin)
                .await
                .map_err(explain)?
            {
                println!("Unlocked {}.", user.username);
            } else {
                println!("{} was not locked; failed attempts cleared.", user.username);
            }
        }
        AdminCommand::Sessions { username, all } => {
            let user = find_user(&state, &username).await?;
            let mut conn = state.store().acquire().await?;
            let rows = sessions::list_for_user(&mut conn, user.id, all, state.now()).await?;
            if rows.is_empty() {
                println!("No sessions for {}.", user.username);
            }
            for row in rows {
                let status = match (&row.revoked_at, &row.revoke_reason) {
                    (Some(_), Some(reason)) => format!("ended ({reason})"),
                    (Some(_), None) => "ended".to_owned(),
                    _ if row.expires_at <= state.now() => "expired".to_owned(),
                    _ => "active".to_owned(),
                };
                println!(
                    "{}  {}  since {}  from {}  {}",
                    row.id,
                    status,
                    rfc3339(row.created_at),
                    row.ip.map_or_else(|| "-".to_owned(), |ip| ip.to_string()),
                    row.method.as_str()
                );
            }
        }
        AdminCommand::ForceLogout { session } => {
            admin::force_logout(&state, schild_core::ids::SessionId(session), &origin)
                .await
                .map_err(explain)?;
            println!("Session {session} ended.");
        }
        AdminCommand::BlockIp { ip, minutes, note } => {
            let until = admin::block_ip(
                &state,
                ip,
                time::Duration::minutes(i64::from(minutes)),
                note,
                &origin,
            )
            .await
            .map_err(explain)?;
            println!("Blocked {ip} until {}.", rfc3339(until));
        }
        AdminCommand::UnblockIp { ip } => {
            if admin::unblock_ip(&state, ip, &origin)
                .await
                .map_err(explain)?
            {
                println!("Unblocked {ip}.");
            } else {
                bail!("{ip} was not blocked");
            }
        }
        AdminCommand::RotateSigningKey => {
            let kid = signing_keys::rotate(&state, &origin)
                .await
                .map_err(explain)?;
            println!(
                "New signing key {kid}; running servers pick it up when they see its first token."
            );
        }
        AdminCommand::SetupToken => match setup::issue_token_if_needed(&state)
            .await
            .map_err(explain)?
        {
            Some(token) => print_setup_token(&token, "the server"),
            None => bail!("setup is already done: an account exists"),
        },
    }
    Ok(())
}

fn read_password(from_stdin: bool) -> anyhow::Result<SecretString> {
    let password = if from_stdin {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .context("cannot read the password from stdin")?;
        line.trim_end_matches(['\r', '\n']).to_owned()
    } else {
        let first = rpassword::prompt_password("Password: ").context("cannot read the password")?;
        let again =
            rpassword::prompt_password("Password again: ").context("cannot read the password")?;
        if first != again {
            bail!("the passwords differ");
        }
        first
    };
    Ok(SecretString::from(password))
}

/// Prints the setup token where the operator sees it: on the console, never in the log.
pub fn print_setup_token(token: &OpaqueToken, base_url: &str) {
    println!();
    println!(
        "  No account exists yet. Create the first administrator with this one-time setup token"
    );
    println!("  (valid 24 hours, single use; restarting the server replaces it):");
    println!();
    println!("      {}", token.expose());
    println!();
    println!(
        "  POST {base_url}/api/v1/setup  {{\"setup_token\": …, \"username\": …, \"display_name\": …, \"password\": …}}"
    );
    println!();
}
