//! The webview's way to the backend: it asks this process, which makes the HTTP request through
//! schild-client. The webview then needs no CORS exception and no network access of its own
//! (its CSP allows only IPC), and requests can only go to the backend's API.
//!
//! Offline, the relay keeps the app useful: a read is answered from the last answer this
//! account got for it in this run (marked with when it was fetched, kept in memory only), and a
//! write the UI marks as queueable waits in the outbox (`schild_client::outbox`) until
//! [`outbox_sync`] sends it when the backend is back.

use crate::Desktop;
use crate::error::CommandError;
use schild_client::outbox::{self, Delivery, SyncProgress, SyncReport};
use schild_client::{ApiAnswer, ApiRequest, ClientError, Method};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, VecDeque};
use tauri::{Emitter as _, State};
use time::OffsetDateTime;

/// The event reporting a round of sending the outbox.
pub const SYNC_EVENT: &str = "sync";

/// Answers kept for offline reading, at most.
const CACHED_ANSWERS: usize = 256;

/// One request from the UI's HTTP backend.
#[derive(Debug, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct FetchRequest {
    /// GET, POST, PUT, PATCH or DELETE.
    method: String,
    /// `/api/v1/…` or `/healthz`.
    path: String,
    /// The bearer token, when signed in.
    authorization: Option<String>,
    /// A JSON body.
    body: Option<String>,
    /// The signed-in account's id: whose cached answers may be shown, and who made a queued
    /// write.
    #[serde(default)]
    account: Option<String>,
    /// Whether this write may wait in the outbox when the backend cannot be reached.
    #[serde(default)]
    queueable: bool,
}

/// The backend's answer, passed back unchanged, or the relay's own when offline.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct FetchResponse {
    status: u16,
    content_type: Option<String>,
    body: String,
    /// Whether `body` is base64 of a binary body (a PNG report).
    binary: bool,
    /// Set when the answer comes from the offline cache: when it was fetched (RFC 3339).
    cached_at: Option<String>,
    /// Set when the write was queued in the outbox: its id.
    queued: Option<String>,
}

impl FetchResponse {
    fn from_answer(answer: ApiAnswer) -> Self {
        Self {
            status: answer.status,
            content_type: answer.content_type,
            body: answer.body,
            binary: answer.binary,
            cached_at: None,
            queued: None,
        }
    }
}

/// The last answers to reads, per account and path, for showing while offline.
#[derive(Debug, Default)]
pub struct ReadCache {
    answers: HashMap<(String, String), FetchResponse>,
    order: VecDeque<(String, String)>,
}

impl ReadCache {
    fn keep(&mut self, key: (String, String), answer: &FetchResponse) {
        let mut kept = answer.clone();
        kept.cached_at = OffsetDateTime::now_utc()
            .format(&time::format_description::well_known::Rfc3339)
            .ok();
        if self.answers.insert(key.clone(), kept).is_none() {
            self.order.push_back(key);
            while self.order.len() > CACHED_ANSWERS {
                if let Some(oldest) = self.order.pop_front() {
                    self.answers.remove(&oldest);
                }
            }
        }
    }

    fn get(&self, key: &(String, String)) -> Option<FetchResponse> {
        self.answers.get(key).cloned()
    }
}

fn offline() -> CommandError {
    CommandError::new("offline", "the backend cannot be reached")
        .recommend("Check the network and the backend address in Settings.")
}

impl From<ClientError> for CommandError {
    fn from(error: ClientError) -> Self {
        match error {
            ClientError::Unreachable => offline(),
            ClientError::Store(e) => CommandError::new("outbox.storage", e.to_string())
                .recommend("Check the disk; nothing was lost."),
            other => CommandError::new("api.bad_request", other.to_string()),
        }
    }
}

/// Sends one request to the configured backend (see the module documentation for offline).
#[tauri::command]
pub async fn backend_fetch(
    desktop: State<'_, Desktop>,
    request: FetchRequest,
) -> Result<FetchResponse, CommandError> {
    let method: Method = request.method.parse()?;
    if desktop.kiosk.load(std::sync::atomic::Ordering::Relaxed)
        && !crate::kiosk::allows(method, &request.path)
    {
        return Err(CommandError::new(
            "kiosk.not_allowed",
            "the enrollment station reaches only the enrollment flow",
        )
        .recommend("An administrator can end the station mode with their security key."));
    }
    let api_request = ApiRequest {
        method,
        path: request.path.clone(),
        authorization: request.authorization,
        idempotency_key: None,
        body: request.body,
    };
    let account = request.account.filter(|a| !a.is_empty());
    let cache_key = account.clone().map(|a| (a, request.path.clone()));
    if method.writes() {
        let queue_as = if request.queueable {
            account.as_deref()
        } else {
            None
        };
        let delivery = outbox::send_or_queue(
            &desktop.local,
            &desktop.client,
            queue_as.unwrap_or_default(),
            &api_request,
        )
        .await?;
        return Ok(match delivery {
            Delivery::Answered(answer) => FetchResponse::from_answer(answer),
            Delivery::Queued(entry) => {
                desktop
                    .record("outbox.queued", format!("{} {}", entry.method, entry.path))
                    .await;
                FetchResponse {
                    status: 202,
                    content_type: Some("application/json".into()),
                    body: serde_json::json!({ "queued": entry.id.to_string() }).to_string(),
                    binary: false,
                    cached_at: None,
                    queued: Some(entry.id.to_string()),
                }
            }
        });
    }
    match desktop.client.send(&api_request).await {
        Ok(answer) => {
            let answer = FetchResponse::from_answer(answer);
            if let Some(key) = cache_key
                && (200..300).contains(&answer.status)
            {
                desktop.reads.lock().await.keep(key, &answer);
            }
            Ok(answer)
        }
        Err(ClientError::Unreachable) => {
            let cached = match &cache_key {
                Some(key) => desktop.reads.lock().await.get(key),
                None => None,
            };
            cached.ok_or_else(offline)
        }
        Err(other) => Err(other.into()),
    }
}

/// A queued write as the UI lists it.
#[derive(Debug, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct OutboxView {
    id: String,
    method: String,
    path: String,
    body: Option<String>,
    queued_at: String,
    attempts: u32,
    /// The backend's refusal (`{status, code, message, recommendation}`), when it refused.
    refused: Option<outbox::Refusal>,
    /// Whether the signed-in account made it (only they can send it).
    mine: bool,
}

/// Everything waiting in the outbox, oldest first.
#[tauri::command]
pub async fn outbox_list(
    desktop: State<'_, Desktop>,
    account: Option<String>,
) -> Result<Vec<OutboxView>, CommandError> {
    let entries = outbox::entries(&desktop.local).await?;
    Ok(entries
        .into_iter()
        .map(|entry| OutboxView {
            id: entry.id.to_string(),
            mine: account.as_deref() == Some(entry.account.as_str()),
            method: entry.method,
            path: entry.path,
            body: entry.body,
            queued_at: entry
                .queued_at
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_default(),
            attempts: entry.attempts,
            refused: entry
                .refused
                .as_deref()
                .and_then(|text| serde_json::from_str(text).ok()),
        })
        .collect())
}

/// Sends the signed-in account's queued writes, reporting progress as `sync` events.
#[tauri::command]
pub async fn outbox_sync(
    app: tauri::AppHandle,
    desktop: State<'_, Desktop>,
    account: String,
    authorization: String,
) -> Result<SyncReport, CommandError> {
    let _one_round = desktop.syncing.lock().await;
    let report = outbox::sync(
        &desktop.local,
        &desktop.client,
        &account,
        &authorization,
        |progress: SyncProgress| {
            let _ = app.emit(SYNC_EVENT, progress);
        },
    )
    .await?;
    if report.sent + report.already_done + report.refused > 0 {
        desktop
            .record(
                "outbox.sent",
                format!(
                    "{} sent, {} already carried out, {} refused, {} waiting",
                    report.sent, report.already_done, report.refused, report.remaining
                ),
            )
            .await;
    }
    Ok(report)
}

/// Drops a queued write the person decided not to send.
#[tauri::command]
pub async fn outbox_discard(desktop: State<'_, Desktop>, id: String) -> Result<(), CommandError> {
    let id = id
        .parse()
        .map_err(|_| CommandError::new("api.bad_request", "not an outbox entry id"))?;
    if !outbox::discard(&desktop.local, id).await? {
        return Err(CommandError::new(
            "outbox.not_found",
            "no such queued change",
        ));
    }
    Ok(())
}
