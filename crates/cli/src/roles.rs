//! `schild roles …`: the permission catalogue, custom roles and assignments, from the backend's
//! own host. Every change goes through the same checks as `/api/v1/roles` and is audited with
//! no signed-in actor (the console).

use crate::config::{self, DatabaseArgs};
use crate::console::{explain, find_user, rfc3339};
use schild_core::rbac::{Permission, RoleDefinition};
use schild_server::access::roles::{self, RoleSpec};
use schild_server::auth::Origin;
use schild_store::{roles as role_store, users};

/// Role commands.
#[derive(Debug, clap::Args)]
pub struct RolesArgs {
    #[command(flatten)]
    database: DatabaseArgs,

    #[command(subcommand)]
    command: RolesCommand,
}

#[derive(Debug, clap::Subcommand)]
enum RolesCommand {
    /// List every role with its permission and holder counts.
    List,
    /// Show one role: what it allows and who holds it, granted by whom, when and why.
    Show {
        /// Role name.
        name: String,
    },
    /// List every permission of the catalogue with what it allows.
    Permissions,
    /// Create a custom role, or replace its definition.
    Save {
        /// Role name: 2–48 letters, digits, - and _, starting with a letter.
        name: String,
        /// What the role is for.
        #[arg(long)]
        description: String,
        /// A permission it allows (resource:action); repeat for several.
        #[arg(long = "permission")]
        permissions: Vec<String>,
        /// Longest just-in-time grant in minutes; omit to make it not requestable.
        #[arg(long)]
        max_jit_minutes: Option<u32>,
        /// Approvers a just-in-time request needs (1 or 2).
        #[arg(long, default_value_t = 1)]
        approvals: u8,
        /// Mark the role privileged.
        #[arg(long)]
        sensitive: bool,
    },
    /// Delete a custom role nobody holds.
    Delete {
        /// Role name.
        name: String,
    },
    /// Give an account a role.
    Assign {
        /// Sign-in name.
        username: String,
        /// Role name.
        role: String,
        /// Why (kept in the audit trail and shown in reviews).
        #[arg(long)]
        reason: String,
    },
    /// Take a role away from an account.
    Unassign {
        /// Sign-in name.
        username: String,
        /// Role name.
        role: String,
        /// Why.
        #[arg(long)]
        reason: String,
    },
}

/// Runs one roles command.
pub async fn run(args: RolesArgs) -> anyhow::Result<()> {
    let state = config::open_state(&args.database).await?;
    let origin = Origin::console();
    match args.command {
        RolesCommand::List => {
            let catalog = state
                .authz()
                .catalog(state.store())
                .await
                .map_err(explain)?;
            let mut conn = state.store().acquire().await?;
            let assignments = role_store::all_assignments(&mut conn).await?;
            for role in catalog.iter() {
                let holders = assignments
                    .iter()
                    .filter(|a| a.role == *role.name())
                    .count();
                println!(
                    "{:<20} {:<8} {:>2} permissions  {:>3} holders  {}",
                    role.name().as_str(),
                    if role.is_builtin() {
                        "built-in"
                    } else {
                        "custom"
                    },
                    role.permissions().len(),
                    holders,
                    role.description()
                );
            }
        }
        RolesCommand::Show { name } => {
            let catalog = state
                .authz()
                .catalog(state.store())
                .await
                .map_err(explain)?;
            let role = catalog.require(&name).map_err(anyhow::Error::new)?;
            describe(role);
            let mut conn = state.store().acquire().await?;
            let holders = role_store::holders(&mut conn, role.name().as_str()).await?;
            if holders.is_empty() {
                println!("Nobody holds it.");
            }
            for assignment in holders {
                let username = users::by_id(&mut conn, assignment.user)
                    .await?
                    .map_or_else(|| assignment.user.to_string(), |u| u.username.to_string());
                let by = match assignment.granted_by {
                    Some(id) => users::by_id(&mut conn, id)
                        .await?
                        .map_or_else(|| id.to_string(), |u| u.username.to_string()),
                    None => "console".to_owned(),
                };
                println!(
                    "  {username}  since {}  by {by}: {}",
                    rfc3339(assignment.granted_at),
                    assignment.reason
                );
            }
        }
        RolesCommand::Permissions => {
            for permission in Permission::all() {
                println!("{:<18} {}", permission.as_str(), permission.description());
            }
        }
        RolesCommand::Save {
            name,
            description,
            permissions,
            max_jit_minutes,
            approvals,
            sensitive,
        } => {
            let spec = RoleSpec {
                description,
                permissions,
                max_jit_minutes,
                approvals_required: approvals,
                sensitive,
            };
            let (role, created) = roles::save(&state, &name, spec, &origin)
                .await
                .map_err(explain)?;
            println!(
                "{} role {}.",
                if created { "Created" } else { "Changed" },
                role.name()
            );
            describe(&role);
        }
        RolesCommand::Delete { name } => {
            roles::delete(&state, &name, &origin)
                .await
                .map_err(|error| match error {
                    schild_server::error::ApiError::NotFound => {
                        anyhow::anyhow!("no role is named {name:?}")
                    }
                    other => explain(other),
                })?;
            println!("Deleted role {name}.");
        }
        RolesCommand::Assign {
            username,
            role,
            reason,
        } => {
            let user = find_user(&state, &username).await?;
            let assignment = roles::assign(&state, user.id, &role, &reason, &origin)
                .await
                .map_err(explain)?;
            println!("{} now holds {}.", user.username, assignment.role);
        }
        RolesCommand::Unassign {
            username,
            role,
            reason,
        } => {
            let user = find_user(&state, &username).await?;
            roles::unassign(&state, user.id, &role, &reason, &origin)
                .await
                .map_err(|error| match error {
                    schild_server::error::ApiError::NotFound => {
                        anyhow::anyhow!("{} does not hold {role:?}", user.username)
                    }
                    other => explain(other),
                })?;
            println!("{} no longer holds {role}.", user.username);
        }
    }
    Ok(())
}

/// Prints a role's definition.
fn describe(role: &RoleDefinition) {
    println!("{}: {}", role.name(), role.description());
    let jit = match role.max_jit_duration() {
        Some(max) => format!(
            "up to {} minutes just in time, {} approval(s)",
            max.whole_minutes(),
            role.approvals_required()
        ),
        None => "not requestable just in time".to_owned(),
    };
    println!(
        "  {}{}; {jit}",
        if role.is_builtin() {
            "built-in"
        } else {
            "custom"
        },
        if role.is_sensitive() {
            ", sensitive"
        } else {
            ""
        }
    );
    for permission in role.permissions() {
        println!("  {:<18} {}", permission.as_str(), permission.description());
    }
}
