//! The offline outbox: writes made while the backend cannot be reached are kept in the local
//! database (`schild_store::outbox`) and sent, in the order they were made, when it is back.
//!
//! Each entry's id is generated here (UUIDv7) and sent as its `Idempotency-Key`, so the backend
//! carries it out once even when an earlier attempt reached it and only the answer was lost.
//! Entries are sent by the account that made them, with that account's current access token
//! (tokens are never stored). An entry the backend refuses (a 4xx other than "sign in again")
//! stays, marked with the refusal, until the person has seen it and discards it; nothing is
//! dropped silently.

use crate::{ApiAnswer, ApiRequest, Client, ClientError, reachable};
use schild_store::Store;
use schild_store::outbox::{self as table, OutboxEntry};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

/// What became of a request.
#[derive(Debug)]
pub enum Delivery {
    /// The backend answered (whatever the status).
    Answered(ApiAnswer),
    /// The backend could not be reached; the write waits in the outbox.
    Queued(OutboxEntry),
}

/// Sends `request`; when the backend cannot be reached and it is a write by `account`, keeps
/// it in the outbox instead. A write is sent with the id it would be queued under as its
/// `Idempotency-Key` (unless it has one), so a first attempt that reached the backend before the
/// connection broke is not carried out a second time when the queue is sent.
pub async fn send_or_queue(
    store: &Store,
    client: &Client,
    account: &str,
    request: &ApiRequest,
) -> Result<Delivery, ClientError> {
    let mut request = request.clone();
    let id = match &request.idempotency_key {
        Some(key) => key.parse().ok(),
        None if request.method.writes() => {
            let id = Uuid::now_v7();
            request.idempotency_key = Some(id.to_string());
            Some(id)
        }
        None => None,
    };
    match client.send(&request).await {
        Ok(answer) => Ok(Delivery::Answered(answer)),
        Err(ClientError::Unreachable) if request.method.writes() && !account.is_empty() => {
            let id = id.unwrap_or_else(Uuid::now_v7);
            Ok(Delivery::Queued(
                queue_as(store, account, &request, id).await?,
            ))
        }
        Err(other) => Err(other),
    }
}

/// Keeps `request` (a write by `account`) until it can be sent. Its authorization is not kept.
pub async fn queue(
    store: &Store,
    account: &str,
    request: &ApiRequest,
) -> Result<OutboxEntry, ClientError> {
    queue_as(store, account, request, Uuid::now_v7()).await
}

async fn queue_as(
    store: &Store,
    account: &str,
    request: &ApiRequest,
    id: Uuid,
) -> Result<OutboxEntry, ClientError> {
    if !request.method.writes() {
        return Err(ClientError::BadRequest("only writes are queued"));
    }
    if !reachable(&request.path) || !request.path.starts_with("/api/v1/") {
        return Err(ClientError::BadRequest(
            "only the backend's API can be reached",
        ));
    }
    if account.is_empty() {
        return Err(ClientError::BadRequest("a queued write needs its author"));
    }
    let entry = OutboxEntry {
        id,
        account: account.to_owned(),
        method: request.method.as_str().to_owned(),
        path: request.path.clone(),
        body: request.body.clone(),
        queued_at: OffsetDateTime::now_utc(),
        attempts: 0,
        refused: None,
    };
    table::push(&mut *store.acquire().await?, &entry).await?;
    tracing::info!(id = %entry.id, method = %entry.method, path = %entry.path, "write queued offline");
    Ok(entry)
}

/// Every entry, oldest first (pending and refused).
pub async fn entries(store: &Store) -> Result<Vec<OutboxEntry>, ClientError> {
    Ok(table::list(&mut *store.acquire().await?).await?)
}

/// Drops an entry the person decided not to send. Returns whether it was there.
pub async fn discard(store: &Store, id: Uuid) -> Result<bool, ClientError> {
    Ok(table::remove(&mut *store.acquire().await?, id).await?)
}

/// The backend's refusal of an entry, as kept with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Refusal {
    /// The HTTP status.
    pub status: u16,
    /// The problem's stable code.
    pub code: String,
    /// Its message.
    pub message: String,
    /// What to do, when the backend said.
    pub recommendation: Option<String>,
}

impl Refusal {
    fn of(answer: &ApiAnswer) -> Self {
        #[derive(Deserialize)]
        struct Problem {
            code: Option<String>,
            title: Option<String>,
            detail: Option<String>,
            recommendation: Option<String>,
        }
        let problem: Option<Problem> = serde_json::from_str(&answer.body).ok();
        let (code, title, detail, recommendation) = problem
            .map(|p| (p.code, p.title, p.detail, p.recommendation))
            .unwrap_or_default();
        Self {
            status: answer.status,
            code: code.unwrap_or_else(|| format!("http_{}", answer.status)),
            message: match (title, detail) {
                (Some(title), Some(detail)) if !detail.is_empty() => format!("{title} {detail}"),
                (Some(title), _) => title,
                _ => format!("the backend answered {}", answer.status),
            },
            recommendation,
        }
    }
}

/// Where sending stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum Stopped {
    /// Everything pending was sent or refused.
    Done,
    /// The backend went away again; the rest waits.
    Offline,
    /// The access token was not accepted: sign in again, then send the rest.
    SignInNeeded,
    /// The backend was busy (a 5xx, 429 or a repeat still running); the rest waits.
    Busy,
}

/// What one round of sending did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SyncReport {
    /// Entries the backend carried out now.
    pub sent: usize,
    /// Entries it had already carried out (an earlier answer was lost); not repeated.
    pub already_done: usize,
    /// Entries it refused; they stay, marked, for the person.
    pub refused: usize,
    /// Entries still waiting.
    pub remaining: usize,
    /// Why the round ended.
    pub stopped: Stopped,
}

/// Progress of a round, for the UI.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SyncProgress {
    /// Entries handled so far.
    pub done: usize,
    /// Entries in this round.
    pub total: usize,
}

/// Sends `account`'s pending entries in order with `authorization` (`Bearer …`).
pub async fn sync(
    store: &Store,
    client: &Client,
    account: &str,
    authorization: &str,
    mut progress: impl FnMut(SyncProgress),
) -> Result<SyncReport, ClientError> {
    let pending = table::pending(&mut *store.acquire().await?, account).await?;
    let total = pending.len();
    let mut report = SyncReport {
        sent: 0,
        already_done: 0,
        refused: 0,
        remaining: total,
        stopped: Stopped::Done,
    };
    for (done, entry) in pending.into_iter().enumerate() {
        progress(SyncProgress { done, total });
        table::attempted(&mut *store.acquire().await?, entry.id).await?;
        let request = ApiRequest {
            method: entry.method.parse()?,
            path: entry.path.clone(),
            authorization: Some(authorization.to_owned()),
            idempotency_key: Some(entry.id.to_string()),
            body: entry.body.clone(),
        };
        let answer = match client.send(&request).await {
            Ok(answer) => answer,
            Err(ClientError::Unreachable) => {
                report.stopped = Stopped::Offline;
                break;
            }
            Err(other) => return Err(other),
        };
        match answer.status {
            200..=299 => {
                table::remove(&mut *store.acquire().await?, entry.id).await?;
                if answer.replayed {
                    report.already_done += 1;
                } else {
                    report.sent += 1;
                }
            }
            401 => {
                report.stopped = Stopped::SignInNeeded;
                break;
            }
            409 if Refusal::of(&answer).code == "idempotency_in_progress" => {
                report.stopped = Stopped::Busy;
                break;
            }
            429 | 500..=599 => {
                report.stopped = Stopped::Busy;
                break;
            }
            _ => {
                let refusal = Refusal::of(&answer);
                tracing::warn!(id = %entry.id, code = %refusal.code, "the backend refused a queued write");
                let kept =
                    serde_json::to_string(&refusal).unwrap_or_else(|_| refusal.message.clone());
                table::refuse(&mut *store.acquire().await?, entry.id, &kept).await?;
                report.refused += 1;
            }
        }
        report.remaining -= 1;
    }
    progress(SyncProgress {
        done: total - report.remaining,
        total,
    });
    Ok(report)
}
