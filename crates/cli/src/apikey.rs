//! `schild apikey …`: API keys of machine clients, from the backend's host, straight against its
//! database. A key belongs to a person, so each command names one with `--as NAME`, whose
//! permissions apply exactly as over the API (the same service functions run underneath): one
//! issues keys for oneself within what one holds, lists and revokes one's own, and with
//! `apikey:read` / `apikey:revoke` lists / revokes anyone's. Every change is audited with that
//! person as the actor.

use crate::config::{self, DatabaseArgs};
use crate::console::{acting_as, explain, rfc3339};
use schild_core::rbac::Permission;
use schild_server::api_keys::{self, ApiKeyRecord, KeyRequest, Scope};
use schild_server::auth::Origin;
use schild_server::error::ApiError;

/// API-key commands.
#[derive(Debug, clap::Args)]
pub struct ApiKeyArgs {
    #[command(flatten)]
    database: DatabaseArgs,

    #[command(subcommand)]
    command: ApiKeyCommand,
}

#[derive(Debug, clap::Subcommand)]
enum ApiKeyCommand {
    /// Issue a key for oneself (needs apikey:issue); the key is printed once, never again.
    Issue {
        /// Whose key (their sign-in name).
        #[arg(long = "as", value_name = "NAME")]
        actor: String,
        /// What it is for (1 to 100 characters).
        #[arg(long)]
        label: String,
        /// A permission it may use (resource:action), one the person holds; repeat for several.
        #[arg(long = "scope", required = true)]
        scopes: Vec<String>,
        /// Days until it expires (1 to 365).
        #[arg(long, default_value_t = 90)]
        days: u32,
    },
    /// List keys, newest first: one's own, or everyone's with --all (needs apikey:read).
    List {
        /// Who is looking.
        #[arg(long = "as", value_name = "NAME")]
        actor: String,
        /// Everyone's keys, not only one's own.
        #[arg(long)]
        all: bool,
    },
    /// Revoke a key: one's own (apikey:issue), or anyone's (apikey:revoke).
    Revoke {
        /// The key's public id (from `schild apikey list`).
        prefix: String,
        /// Who revokes it.
        #[arg(long = "as", value_name = "NAME")]
        actor: String,
        /// Why (1 to 500 characters).
        #[arg(long)]
        reason: String,
    },
}

/// Runs one API-key command.
pub async fn run(args: ApiKeyArgs) -> anyhow::Result<()> {
    // A mistyped id is refused before the database is opened.
    if let ApiKeyCommand::Revoke { prefix, .. } = &args.command {
        api_keys::parse_prefix(prefix).map_err(explain)?;
    }
    let state = config::open_state(&args.database).await?;
    match args.command {
        ApiKeyCommand::Issue {
            actor,
            label,
            scopes,
            days,
        } => {
            let actor = acting_as(&state, &actor).await?;
            if !actor.permissions.has(Permission::ApikeyIssue) {
                return Err(explain(ApiError::MissingPermission(
                    Permission::ApikeyIssue,
                )));
            }
            let request = KeyRequest {
                label,
                scopes,
                lifetime_days: Some(days),
            };
            let (record, issued) = api_keys::issue(
                &state,
                actor.id(),
                &request,
                &Origin::console().acting(actor.id()),
            )
            .await
            .map_err(explain)?;
            println!(
                "Issued API key {} to {}, valid until {}.",
                record.key.prefix,
                record.owner_name,
                rfc3339(record.key.expires_at)
            );
            println!("Store it now; it is not shown again:");
            println!("{}", issued.expose());
        }
        ApiKeyCommand::List { actor, all } => {
            let actor = acting_as(&state, &actor).await?;
            let scope = if all {
                if !actor.permissions.has(Permission::ApikeyRead) {
                    return Err(explain(ApiError::MissingPermission(Permission::ApikeyRead)));
                }
                Scope::Everyone
            } else {
                Scope::Own(actor.id())
            };
            let records = api_keys::list(&state, scope).await.map_err(explain)?;
            if records.is_empty() {
                println!("No API keys.");
            }
            for record in &records {
                println!("{}", line(record));
            }
        }
        ApiKeyCommand::Revoke {
            prefix,
            actor,
            reason,
        } => {
            let actor = acting_as(&state, &actor).await?;
            let scope = if actor.permissions.has(Permission::ApikeyRevoke) {
                Scope::Everyone
            } else if actor.permissions.has(Permission::ApikeyIssue) {
                Scope::Own(actor.id())
            } else {
                return Err(explain(ApiError::MissingPermission(
                    Permission::ApikeyIssue,
                )));
            };
            let prefix = api_keys::parse_prefix(&prefix).map_err(explain)?;
            let record = api_keys::revoke(
                &state,
                &prefix,
                scope,
                &reason,
                &Origin::console().acting(actor.id()),
            )
            .await
            .map_err(|error| match error {
                ApiError::NotFound => anyhow::anyhow!("no API key {prefix} of yours"),
                other => explain(other),
            })?;
            println!(
                "Revoked API key {} of {}.",
                record.key.prefix, record.owner_name
            );
        }
    }
    Ok(())
}

/// One key as a listing line: id, status, owner, label, scopes, expiry and last use.
fn line(record: &ApiKeyRecord) -> String {
    let key = &record.key;
    let scopes: Vec<&str> = key.scopes.iter().map(Permission::as_str).collect();
    format!(
        "{}  {:<7}  {}  {:?}  [{}]  expires {}  last used {}",
        key.prefix,
        record.status.as_str(),
        record.owner_name,
        key.label,
        scopes.join(", "),
        rfc3339(key.expires_at),
        key.last_used_at.map_or_else(|| "never".to_owned(), rfc3339)
    )
}
