//! `schild review …`: access-review campaigns from the backend's host, straight against its
//! database, through the same service functions as the `/reviews` API. Starting a campaign and
//! deciding an item belong to a person, so those commands name one with `--as NAME`, whose
//! permissions (review:manage, review:decide) and the no-self-review rule apply exactly as over
//! the API; every step is audited with that person as the actor.

use crate::config::{self, DatabaseArgs};
use crate::console::{acting_as, explain, rfc3339};
use anyhow::bail;
use schild_core::rbac::{CampaignId, ReviewItemId, Verdict};
use schild_server::access::reviews::{self, CampaignRequest, PolicyOverrides};
use schild_server::auth::Origin;
use schild_server::error::ApiError;
use time::Duration;
use uuid::Uuid;

/// Access-review commands.
#[derive(Debug, clap::Args)]
pub struct ReviewArgs {
    #[command(flatten)]
    database: DatabaseArgs,

    #[command(subcommand)]
    command: ReviewCommand,
}

#[derive(Debug, clap::Subcommand)]
enum ReviewCommand {
    /// Start a campaign over every assignment of the named roles (every role when none is
    /// named); prints its items with their last use (needs review:manage).
    Start {
        /// Who starts it (their sign-in name).
        #[arg(long = "as", value_name = "NAME")]
        actor: String,
        /// What reviewers see, for example "2027 Q1 access review".
        #[arg(long)]
        name: String,
        /// A role to review; repeat for several.
        #[arg(long = "role", value_name = "ROLE")]
        roles: Vec<String>,
        /// Days until decisions are due (1 to 366).
        #[arg(long, default_value_t = 14)]
        days: u16,
    },
    /// List campaigns, newest first.
    List,
    /// Certify or revoke one item (needs review:decide; never one's own access).
    Decide {
        /// Campaign id (from `schild review list`).
        campaign: Uuid,
        /// Item id (from `schild review start` or the report).
        item: Uuid,
        /// Who decides.
        #[arg(long = "as", value_name = "NAME")]
        actor: String,
        /// Keep the assignment.
        #[arg(long, conflicts_with = "revoke", required_unless_present = "revoke")]
        certify: bool,
        /// Remove the assignment, at once.
        #[arg(long)]
        revoke: bool,
        /// Why (up to 500 characters). Required to revoke, and to keep a sensitive role or an
        /// assignment flagged unused.
        #[arg(long, default_value = "")]
        reason: String,
    },
    /// Print a campaign's report (who decided what, when) to stdout.
    Report {
        /// Campaign id.
        campaign: Uuid,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Csv)]
        format: Format,
    },
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum Format {
    /// RFC 4180 CSV, one line per item.
    Csv,
    /// The campaign, its counts and its items.
    Json,
}

/// Runs one review command.
pub async fn run(args: ReviewArgs) -> anyhow::Result<()> {
    let state = config::open_state(&args.database).await?;
    match args.command {
        ReviewCommand::Start {
            actor,
            name,
            roles,
            days,
        } => {
            let scope = reviews::roles_scope(&roles).map_err(explain)?;
            let actor = acting_as(&state, &actor).await?;
            let request = CampaignRequest {
                name,
                scope,
                deadline: state.now() + Duration::days(i64::from(days)),
                policy: PolicyOverrides::default(),
            };
            let origin = Origin::console().acting(actor.id());
            let campaign = reviews::start(&state, Some(actor.id()), request, &origin)
                .await
                .map_err(explain)?;
            let flagged = campaign.items.iter().filter(|i| i.flagged_unused).count();
            println!(
                "Started campaign {} \"{}\": {} items, {flagged} flagged unused, due {}.",
                campaign.id,
                campaign.name,
                campaign.items.len(),
                rfc3339(campaign.deadline)
            );
            for item in &campaign.items {
                println!(
                    "  {}  {}  {}  last used {}{}",
                    item.id,
                    item.username,
                    item.role,
                    item.last_used.map_or_else(|| "never".to_owned(), rfc3339),
                    if item.flagged_unused {
                        "  (flagged unused)"
                    } else {
                        ""
                    }
                );
            }
        }
        ReviewCommand::List => {
            let campaigns = reviews::list(&state).await.map_err(explain)?;
            if campaigns.is_empty() {
                println!("No review campaigns.");
            }
            for c in campaigns {
                let state = c.completed_at.map_or_else(
                    || "open".to_owned(),
                    |at| format!("completed {}", rfc3339(at)),
                );
                println!(
                    "{}  \"{}\"  started {}  due {}  {}/{} resolved  {state}",
                    c.id,
                    c.name,
                    rfc3339(c.started_at),
                    rfc3339(c.deadline),
                    c.resolved,
                    c.items
                );
            }
        }
        ReviewCommand::Decide {
            campaign,
            item,
            actor,
            certify,
            revoke,
            reason,
        } => {
            let verdict = match (certify, revoke) {
                (true, false) => Verdict::Certify,
                (false, true) => Verdict::Revoke,
                _ => bail!("give exactly one of --certify and --revoke"),
            };
            let actor = acting_as(&state, &actor).await?;
            let origin = Origin::console().acting(actor.id());
            let decided = reviews::decide(
                &state,
                CampaignId(campaign),
                ReviewItemId(item),
                actor.id(),
                verdict,
                &reason,
                &origin,
            )
            .await
            .map_err(|error| match error {
                ApiError::NotFound => {
                    anyhow::anyhow!("no review campaign {campaign} with an item {item}")
                }
                other => explain(other),
            })?;
            match verdict {
                Verdict::Certify => {
                    println!("Certified {}'s {}.", decided.username, decided.role)
                }
                _ => println!(
                    "Revoked {}'s {}; the role was removed.",
                    decided.username, decided.role
                ),
            }
        }
        ReviewCommand::Report { campaign, format } => {
            let report = reviews::report(&state, CampaignId(campaign))
                .await
                .map_err(|error| match error {
                    ApiError::NotFound => {
                        anyhow::anyhow!("no review campaign has the id {campaign}")
                    }
                    other => explain(other),
                })?;
            match format {
                Format::Csv => print!("{}", report.to_csv()),
                Format::Json => println!("{}", report.to_json()?),
            }
        }
    }
    Ok(())
}
