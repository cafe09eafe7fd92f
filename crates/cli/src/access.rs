//! `schild access …`: just-in-time access from the backend's host, straight against its
//! database. Requests and decisions belong to a person, so each command names one with
//! `--as NAME`, whose permissions and the no-self-approval rule apply exactly as over the API
//! (the same service functions run underneath); every step is audited with that person as the
//! actor.

use crate::config::{self, DatabaseArgs};
use crate::console::{acting_as, explain, find_user, rfc3339};
use schild_core::rbac::{JitRequestId, JitStatus, Permission};
use schild_server::access::jit::{self, JitRecord, LIST_MAX, Scope};
use schild_server::auth::Origin;
use schild_server::error::ApiError;
use uuid::Uuid;

/// Just-in-time access commands.
#[derive(Debug, clap::Args)]
pub struct AccessArgs {
    #[command(flatten)]
    database: DatabaseArgs,

    #[command(subcommand)]
    command: AccessCommand,
}

#[derive(Debug, clap::Subcommand)]
enum AccessCommand {
    /// Ask for a role or a single permission for a limited time.
    Request {
        /// Who asks (their sign-in name).
        #[arg(long = "as", value_name = "NAME")]
        actor: String,
        /// The role to hold for a while.
        #[arg(
            long,
            required_unless_present = "permission",
            conflicts_with = "permission"
        )]
        role: Option<String>,
        /// The single permission to hold for a while (resource:action).
        #[arg(long)]
        permission: Option<String>,
        /// How long, from approval, in minutes (at most the role's maximum; a permission: 60).
        #[arg(long)]
        minutes: u32,
        /// Why (1 to 500 characters).
        #[arg(long)]
        reason: String,
    },
    /// Approve someone else's pending request (needs access:approve).
    Approve {
        /// Request id (from `schild access list`).
        id: Uuid,
        /// Who approves.
        #[arg(long = "as", value_name = "NAME")]
        actor: String,
    },
    /// Refuse someone else's pending request (needs access:approve).
    Deny {
        /// Request id.
        id: Uuid,
        /// Who refuses.
        #[arg(long = "as", value_name = "NAME")]
        actor: String,
        /// Why (1 to 500 characters).
        #[arg(long)]
        reason: String,
    },
    /// End an active grant early: one's own, or anyone's with access:revoke.
    Revoke {
        /// Request id.
        id: Uuid,
        /// Who ends it.
        #[arg(long = "as", value_name = "NAME")]
        actor: String,
        /// Why (1 to 500 characters).
        #[arg(long)]
        reason: String,
    },
    /// List requests, newest first: one person's own (--as NAME) or everyone's (--all).
    ///
    /// With both --all and --as NAME, that person needs access:read.
    List {
        /// Everyone's requests, not only one person's.
        #[arg(long)]
        all: bool,
        /// Whose requests (without --all), or who is looking (with --all).
        #[arg(long = "as", value_name = "NAME", required_unless_present = "all")]
        actor: Option<String>,
    },
}

/// Runs one access command.
pub async fn run(args: AccessArgs) -> anyhow::Result<()> {
    // Names are checked before the database is opened: a typo never needs an account.
    if let AccessCommand::Request {
        role, permission, ..
    } = &args.command
    {
        jit::parse_target(role.as_deref(), permission.as_deref()).map_err(explain)?;
    }
    let state = config::open_state(&args.database).await?;
    match args.command {
        AccessCommand::Request {
            actor,
            role,
            permission,
            minutes,
            reason,
        } => {
            let target =
                jit::parse_target(role.as_deref(), permission.as_deref()).map_err(explain)?;
            let user = find_user(&state, &actor).await?;
            let record = jit::request(
                &state,
                user.id,
                target,
                time::Duration::minutes(i64::from(minutes)),
                &reason,
                &Origin::console().acting(user.id),
            )
            .await
            .map_err(explain)?;
            println!(
                "Requested {} for {} minutes as {}: request {} is pending ({}).",
                record.request.target,
                minutes,
                user.username,
                record.request.id,
                approvals_needed(&record)
            );
        }
        AccessCommand::Approve { id, actor } => {
            let user = find_user(&state, &actor).await?;
            let record = jit::approve(
                &state,
                JitRequestId(id),
                user.id,
                &Origin::console().acting(user.id),
            )
            .await
            .map_err(explain)?;
            let request = &record.request;
            match request.grant() {
                Some(grant) => println!(
                    "Approved request {id}: {} holds {} until {}.",
                    record.username(request.requester),
                    request.target,
                    rfc3339(grant.ends_at)
                ),
                None => println!(
                    "Approved request {id}: still pending ({}).",
                    approvals_needed(&record)
                ),
            }
        }
        AccessCommand::Deny { id, actor, reason } => {
            let user = find_user(&state, &actor).await?;
            let record = jit::deny(
                &state,
                JitRequestId(id),
                user.id,
                &reason,
                &Origin::console().acting(user.id),
            )
            .await
            .map_err(explain)?;
            println!(
                "Denied request {id}: {} does not get {}.",
                record.username(record.request.requester),
                record.request.target
            );
        }
        AccessCommand::Revoke { id, actor, reason } => {
            let actor = acting_as(&state, &actor).await?;
            let record = jit::revoke(
                &state,
                JitRequestId(id),
                actor.id(),
                actor.permissions,
                &reason,
                &Origin::console().acting(actor.id()),
            )
            .await
            .map_err(explain)?;
            println!(
                "Revoked request {id}: {} no longer holds {}.",
                record.username(record.request.requester),
                record.request.target
            );
        }
        AccessCommand::List { all, actor } => {
            let scope = match (all, actor) {
                (true, None) => Scope::Everyone,
                (true, Some(name)) => {
                    let actor = acting_as(&state, &name).await?;
                    if !actor.permissions.has(Permission::AccessRead) {
                        return Err(explain(ApiError::MissingPermission(Permission::AccessRead)));
                    }
                    Scope::Everyone
                }
                (false, Some(name)) => Scope::Own(find_user(&state, &name).await?.id),
                (false, None) => {
                    anyhow::bail!("name whose requests to list with --as, or use --all")
                }
            };
            let records = jit::list(&state, scope, None, LIST_MAX)
                .await
                .map_err(explain)?;
            if records.is_empty() {
                println!("No access requests.");
            }
            for record in &records {
                println!("{}", line(record));
            }
        }
    }
    Ok(())
}

fn approvals_needed(record: &JitRecord) -> String {
    let request = &record.request;
    let plural = if request.approvals_required == 1 {
        ""
    } else {
        "s"
    };
    format!(
        "{} of {} approval{plural}",
        request.approvals.len(),
        request.approvals_required
    )
}

/// One request as a listing line: id, state, who, what, how long, and when.
fn line(record: &JitRecord) -> String {
    let request = &record.request;
    let when = match (record.status, request.grant()) {
        (JitStatus::Pending | JitStatus::Lapsed, _) => {
            format!(
                "requested {}, {}",
                rfc3339(request.requested_at),
                approvals_needed(record)
            )
        }
        (JitStatus::Revoked, Some(grant)) => format!(
            "from {} until {}",
            rfc3339(grant.starts_at),
            grant
                .revoked_at
                .map_or_else(|| rfc3339(grant.ends_at), rfc3339)
        ),
        (_, Some(grant)) => format!(
            "from {} until {}",
            rfc3339(grant.starts_at),
            rfc3339(grant.ends_at)
        ),
        (_, None) => format!("requested {}", rfc3339(request.requested_at)),
    };
    format!(
        "{}  {:<8} {}  {}  {} min  {}",
        request.id,
        record.status.as_str(),
        record.username(request.requester),
        request.target,
        request.duration.whole_minutes(),
        when
    )
}
