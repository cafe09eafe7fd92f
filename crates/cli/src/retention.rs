//! `schild retention …`: retention policies, legal holds and the purge, from the backend's own
//! host. Every change goes through the same checks as `/api/v1/retention` and is audited with no
//! signed-in actor (the console).

use crate::config::{self, DatabaseArgs};
use crate::console::{explain, find_user, rfc3339};
use schild_core::retention::{ClassOutcome, HoldId, LegalHold, RetentionPolicies};
use schild_server::auth::Origin;
use schild_server::retention::{self, purge};
use std::collections::BTreeMap;
use uuid::Uuid;

/// Retention commands.
#[derive(Debug, clap::Args)]
pub struct RetentionArgs {
    #[command(flatten)]
    database: DatabaseArgs,

    #[command(subcommand)]
    command: RetentionCommand,
}

#[derive(Debug, clap::Subcommand)]
enum RetentionCommand {
    /// Run the purge now: delete what has outlived its retention period and no hold keeps.
    Run {
        /// Only report, per class, what would go and the oldest such record; change nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Show every data class's retention period, or change some with --set.
    Policies {
        /// CLASS=DAYS, for example sessions=30; repeat for several.
        #[arg(long = "set", value_name = "CLASS=DAYS", value_parser = class_days)]
        set: Vec<(String, u32)>,
    },
    /// List legal holds in force (with --all, released ones too).
    Holds {
        /// Include released holds.
        #[arg(long)]
        all: bool,
    },
    /// Place a legal hold on a data class, or only on one account's records in it.
    Hold {
        /// The class: audit_events, sessions, api_keys, vault_items, incidents, training_records.
        #[arg(long)]
        class: String,
        /// Keep only the records about this account (its sign-in name).
        #[arg(long, value_name = "NAME")]
        user: Option<String>,
        /// Why (a case or matter reference, 1 to 500 characters).
        #[arg(long)]
        reason: String,
    },
    /// Release a legal hold.
    Release {
        /// Hold id (from `schild retention holds`).
        id: Uuid,
        /// Why (1 to 500 characters).
        #[arg(long)]
        reason: String,
    },
}

fn class_days(raw: &str) -> Result<(String, u32), String> {
    let (class, days) = raw
        .split_once('=')
        .ok_or_else(|| format!("expected CLASS=DAYS, got {raw:?}"))?;
    let days = days
        .trim()
        .parse()
        .map_err(|_| format!("{days:?} is not a whole number of days"))?;
    Ok((class.trim().to_owned(), days))
}

/// Runs one retention command.
pub async fn run(args: RetentionArgs) -> anyhow::Result<()> {
    // Names are checked before the database is opened: a typo never needs one.
    match &args.command {
        RetentionCommand::Hold { class, .. } => {
            retention::parse_class(class).map_err(explain)?;
        }
        RetentionCommand::Policies { set } => {
            for (class, _) in set {
                retention::parse_class(class).map_err(explain)?;
            }
        }
        _ => {}
    }
    let state = config::open_state(&args.database).await?;
    let origin = Origin::console();
    match args.command {
        RetentionCommand::Run { dry_run } => {
            let report = purge::run(&state, dry_run, &origin)
                .await
                .map_err(explain)?;
            print_report(&report);
        }
        RetentionCommand::Policies { set } => {
            let policies = if set.is_empty() {
                retention::policies(&state).await.map_err(explain)?
            } else {
                let changes: BTreeMap<String, u32> = set.into_iter().collect();
                retention::set_policies(&state, &changes, &origin)
                    .await
                    .map_err(explain)?
            };
            print_policies(&policies);
        }
        RetentionCommand::Holds { all } => {
            let holds = retention::holds(&state, all).await.map_err(explain)?;
            if holds.is_empty() {
                println!("No legal holds.");
            }
            for hold in &holds {
                println!("{}", hold_line(hold));
            }
        }
        RetentionCommand::Hold {
            class,
            user,
            reason,
        } => {
            let class = retention::parse_class(&class).map_err(explain)?;
            let subject = match &user {
                Some(name) => Some(find_user(&state, name).await?.id),
                None => None,
            };
            let hold = retention::place_hold(&state, class, subject, &reason, &origin)
                .await
                .map_err(explain)?;
            let whose = user.map_or_else(|| "all".to_owned(), |name| format!("{name}'s"));
            println!("Placed legal hold {} on {whose} {class}.", hold.id);
        }
        RetentionCommand::Release { id, reason } => {
            let hold = retention::release_hold(&state, HoldId(id), &reason, &origin)
                .await
                .map_err(|error| match error {
                    schild_server::error::ApiError::NotFound => {
                        anyhow::anyhow!("no legal hold has the id {id}")
                    }
                    other => explain(other),
                })?;
            println!("Released legal hold {} on {}.", hold.id, hold.class);
        }
    }
    Ok(())
}

fn print_policies(policies: &RetentionPolicies) {
    for (class, period) in policies.iter() {
        let default = class.default_period().days();
        let note = if period.days() == default {
            "(default)".to_owned()
        } else {
            format!("(default {default})")
        };
        println!(
            "{:<17} {:>5} days  {note:<14} at least {:>3}  {}",
            class.as_str(),
            period.days(),
            class.minimum_days(),
            class.description()
        );
    }
}

fn print_report(report: &purge::PurgeReport) {
    if report.dry_run {
        println!(
            "Dry run at {}: nothing was deleted. What a purge would delete:",
            rfc3339(report.at)
        );
    } else {
        println!("Purged at {}:", rfc3339(report.at));
    }
    for class in &report.classes {
        let what = match class.outcome {
            ClassOutcome::Purged if report.dry_run => match &class.oldest {
                Some(oldest) => format!(
                    "{} would go, the oldest {} (ended {})",
                    class.count,
                    oldest.id,
                    rfc3339(oldest.ended_at)
                ),
                None => "nothing would go".to_owned(),
            },
            ClassOutcome::Purged => format!("{} deleted", class.count),
            ClassOutcome::Held => "held".to_owned(),
            ClassOutcome::NotRecorded => "not recorded".to_owned(),
            ClassOutcome::Failed => "FAILED".to_owned(),
        };
        let note = class
            .note
            .map_or_else(String::new, |note| format!(" ({note})"));
        println!(
            "  {:<17} {:>5} days, before {}: {what}{note}",
            class.class.as_str(),
            class.keep.days(),
            rfc3339(class.cutoff)
        );
    }
    if let Some(floor) = report.audit_floor {
        println!("Audit events up to number {floor} may now be missing from the trail.");
    }
}

fn hold_line(hold: &LegalHold) -> String {
    let whose = hold.subject.map_or_else(
        || "whole class".to_owned(),
        |user| format!("account {user}"),
    );
    let state = match &hold.release {
        Some(release) => format!("released {}", rfc3339(release.at)),
        None => "in force".to_owned(),
    };
    format!(
        "{}  {:<17} {whose}  placed {}  {state}  {:?}",
        hold.id,
        hold.class.as_str(),
        rfc3339(hold.placed_at),
        hold.reason.as_str()
    )
}
