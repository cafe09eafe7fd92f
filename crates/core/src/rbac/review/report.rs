//! A campaign's report: who decided what, when; exported as JSON and as CSV (RFC 4180).

use super::{ItemStatus, ReviewItem, ReviewScope};
use crate::ids::UserId;
use crate::rbac::{CampaignId, Reason, ReviewItemId};
use serde::Serialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

pub(super) fn rfc3339(at: OffsetDateTime) -> String {
    // Only fails for years outside 0..=9999, which no stored timestamp reaches.
    at.format(&Rfc3339)
        .unwrap_or_else(|_| at.unix_timestamp().to_string())
}

/// Counts per status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReportSummary {
    /// All items.
    pub items: usize,
    /// Still waiting, before the deadline.
    pub pending: usize,
    /// Still waiting, past the deadline.
    pub escalated: usize,
    /// Kept.
    pub certified: usize,
    /// Removed by a reviewer.
    pub revoked: usize,
    /// Removed automatically.
    pub auto_revoked: usize,
    /// Flagged unused at the start.
    pub flagged_unused: usize,
}

/// One line of a report. Times are RFC 3339 in UTC; absent values are empty in CSV and `null`
/// in JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReportRow {
    /// The item.
    pub item: ReviewItemId,
    /// The account.
    pub user: UserId,
    /// Its username.
    pub username: String,
    /// The role.
    pub role: String,
    /// Whether the role is sensitive.
    pub sensitive: bool,
    /// Who granted it.
    pub granted_by: Option<UserId>,
    /// When.
    pub granted_at: String,
    /// Last use of any of the role's permissions.
    pub last_used: Option<String>,
    /// Flagged unused.
    pub flagged_unused: bool,
    /// Where it stands.
    pub status: ItemStatus,
    /// Who decided.
    pub reviewer: Option<UserId>,
    /// When.
    pub decided_at: Option<String>,
    /// Why.
    pub reason: Option<String>,
    /// When it was escalated.
    pub escalated_at: Option<String>,
    /// When it was revoked automatically.
    pub auto_revoked_at: Option<String>,
}

impl ReportRow {
    pub(super) fn from_item(item: &ReviewItem) -> Self {
        Self {
            item: item.id,
            user: item.user,
            username: item.username.clone(),
            role: item.role.to_string(),
            sensitive: item.sensitive,
            granted_by: item.granted_by,
            granted_at: rfc3339(item.granted_at),
            last_used: item.last_used.map(rfc3339),
            flagged_unused: item.flagged_unused,
            status: item.status(),
            reviewer: item.decision.as_ref().map(|d| d.reviewer),
            decided_at: item.decision.as_ref().map(|d| rfc3339(d.at)),
            reason: item
                .decision
                .as_ref()
                .and_then(|d| d.reason.as_ref().map(Reason::to_string)),
            escalated_at: item.escalated_at.map(rfc3339),
            auto_revoked_at: item.auto_revoked_at.map(rfc3339),
        }
    }
}

/// A campaign's report, for export.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReviewReport {
    /// The campaign.
    pub campaign: CampaignId,
    /// Its name.
    pub name: String,
    /// Its scope.
    pub scope: ReviewScope,
    /// Who started it.
    pub created_by: Option<UserId>,
    /// When it started.
    pub started_at: String,
    /// Its deadline.
    pub deadline: String,
    /// When it completed.
    pub completed_at: Option<String>,
    /// Counts.
    pub summary: ReportSummary,
    /// One row per item.
    pub items: Vec<ReportRow>,
}

const CSV_HEADER: [&str; 17] = [
    "campaign",
    "campaign_name",
    "item",
    "user_id",
    "username",
    "role",
    "sensitive",
    "granted_by",
    "granted_at",
    "last_used",
    "flagged_unused",
    "status",
    "reviewer",
    "decided_at",
    "reason",
    "escalated_at",
    "auto_revoked_at",
];

impl ReviewReport {
    /// The report as pretty-printed JSON.
    pub fn to_json(&self) -> Result<String, serde_json::Error> {
        serde_json::to_string_pretty(self)
    }

    /// The items as CSV (RFC 4180: comma-separated, CRLF line ends, a header line, fields with
    /// commas, quotes or line breaks quoted with inner quotes doubled).
    ///
    /// Cells that a spreadsheet would run as a formula (starting with `=`, `+`, `-`, `@`, tab or
    /// carriage return) get a leading `'`, the OWASP advice against CSV injection: usernames
    /// and reasons are typed by people.
    //
    // Written by hand rather than with the `csv` crate: one writer of a dozen lines, and the
    // injection guard is needed either way.
    pub fn to_csv(&self) -> String {
        let mut out = String::new();
        push_record(&mut out, CSV_HEADER.iter().map(|s| (*s).to_owned()));
        let opt = |v: &Option<String>| v.clone().unwrap_or_default();
        let opt_id = |v: Option<UserId>| v.map(|id| id.to_string()).unwrap_or_default();
        for row in &self.items {
            push_record(
                &mut out,
                [
                    self.campaign.to_string(),
                    self.name.clone(),
                    row.item.to_string(),
                    row.user.to_string(),
                    row.username.clone(),
                    row.role.clone(),
                    row.sensitive.to_string(),
                    opt_id(row.granted_by),
                    row.granted_at.clone(),
                    opt(&row.last_used),
                    row.flagged_unused.to_string(),
                    row.status.as_str().to_owned(),
                    opt_id(row.reviewer),
                    opt(&row.decided_at),
                    opt(&row.reason),
                    opt(&row.escalated_at),
                    opt(&row.auto_revoked_at),
                ]
                .into_iter(),
            );
        }
        out
    }
}

fn push_record(out: &mut String, fields: impl Iterator<Item = String>) {
    for (i, field) in fields.enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&csv_field(&field));
    }
    out.push_str("\r\n");
}

fn csv_field(raw: &str) -> String {
    let guarded = if raw.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{raw}")
    } else {
        raw.to_owned()
    };
    if guarded.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", guarded.replace('"', "\"\""))
    } else {
        guarded
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_are_quoted_and_guarded() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("two\nlines"), "\"two\nlines\"");
        assert_eq!(csv_field("cr\rlf"), "\"cr\rlf\"");
        assert_eq!(csv_field("=1+1"), "'=1+1");
        assert_eq!(csv_field("@SUM(A1),x"), "\"'@SUM(A1),x\"");
        assert_eq!(csv_field("-2"), "'-2");
        assert_eq!(csv_field(""), "");
    }
}
