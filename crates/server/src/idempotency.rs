//! Idempotency keys (the `Idempotency-Key` header) on writes: a client that may send the same
//! write twice — the desktop's offline outbox resending an entry whose answer it never got —
//! names it with a key, and the backend carries it out at most once per signed-in account.
//!
//! - The first request with a key claims it ([`schild_store::idempotency::claim`]) and runs. A
//!   2xx answer is recorded; any other answer gives the key back, because a refused or failed
//!   write changed nothing and may be sent again.
//! - A repeat with the same key, method, path and body gets the first answer's status, the
//!   header `Idempotency-Replayed: true` and the body `{"idempotent_replay": true}`, and changes
//!   nothing. First answers' bodies are not kept: some carry secrets (backup codes, API keys).
//! - The same key with a different request is refused (422), and a repeat while the first is
//!   still running gets 409.
//! - Requests without the header, reads, and requests without a valid access token pass through
//!   untouched (the route answers those as it always does).

use crate::error::{ApiError, Refusal};
use crate::routes::BODY_LIMIT;
use crate::state::AppState;
use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::header::AUTHORIZATION;
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use schild_store::idempotency::{self, Claim};
use sha2::{Digest as _, Sha256};

/// The request header naming a write.
pub static IDEMPOTENCY_KEY: HeaderName = HeaderName::from_static("idempotency-key");
/// The answer header marking a repeat that was not carried out again.
pub static IDEMPOTENCY_REPLAYED: HeaderName = HeaderName::from_static("idempotency-replayed");

/// How long a key is remembered: the outbox sends its queue within that.
pub const KEPT_FOR: time::Duration = time::Duration::days(1);

/// Longest key accepted.
const KEY_MAX: usize = 64;

fn refusal(
    status: StatusCode,
    code: &'static str,
    title: &'static str,
    recommendation: &'static str,
) -> ApiError {
    ApiError::Refused(Refusal {
        status,
        code,
        title,
        recommendation,
        detail: String::new(),
    })
}

fn valid_key(key: &str) -> bool {
    (1..=KEY_MAX).contains(&key.len())
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The middleware (see the module documentation).
pub async fn guard(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let writes = matches!(
        *request.method(),
        Method::POST | Method::PUT | Method::PATCH | Method::DELETE
    );
    let Some(key) = request.headers().get(&IDEMPOTENCY_KEY).filter(|_| writes) else {
        return next.run(request).await;
    };
    let Some(key) = key
        .to_str()
        .ok()
        .filter(|k| valid_key(k))
        .map(str::to_owned)
    else {
        return refusal(
            StatusCode::UNPROCESSABLE_ENTITY,
            "idempotency_key_invalid",
            "The Idempotency-Key header is not valid.",
            "Send 1 to 64 letters, digits, '-' or '_' (a UUID fits).",
        )
        .into_response();
    };
    let bearer = request
        .headers()
        .get(AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "));
    let account = match bearer {
        Some(token) => match state.verify_access(token, state.now()).await {
            Ok(claims) => claims.sub.to_string(),
            Err(_) => return next.run(request).await,
        },
        None => return next.run(request).await,
    };

    let (parts, body) = request.into_parts();
    let Ok(body) = to_bytes(body, BODY_LIMIT).await else {
        return ApiError::PayloadTooLarge.into_response();
    };
    let mut digest = Sha256::new();
    digest.update(parts.method.as_str());
    digest.update(b"\n");
    digest.update(parts.uri.to_string());
    digest.update(b"\n");
    digest.update(&body);
    let fingerprint: [u8; 32] = digest.finalize().into();

    match claim(&state, &account, &key, &fingerprint).await {
        Ok(Claim::Fresh) => {}
        Ok(Claim::Done { status }) => return replayed(status),
        Ok(Claim::Running) => {
            return refusal(
                StatusCode::CONFLICT,
                "idempotency_in_progress",
                "The same request is still being carried out.",
                "Wait a moment and send it again.",
            )
            .into_response();
        }
        Ok(Claim::Mismatch) => {
            return refusal(
                StatusCode::UNPROCESSABLE_ENTITY,
                "idempotency_key_reused",
                "This Idempotency-Key was already used for a different request.",
                "Use a new key for every new request.",
            )
            .into_response();
        }
        Err(error) => return error.into_response(),
    }

    let answer = next.run(Request::from_parts(parts, Body::from(body))).await;
    let status = answer.status();
    let recorded = async {
        let mut conn = state.store().acquire().await?;
        if status.is_success() {
            idempotency::complete(&mut conn, &account, &key, status.as_u16()).await
        } else {
            idempotency::release(&mut conn, &account, &key).await
        }
    };
    if let Err(error) = recorded.await {
        // The write itself stands; only its key is not recorded, so a repeat would run again.
        tracing::error!(%error, "could not record an idempotency key");
    }
    answer
}

async fn claim(
    state: &AppState,
    account: &str,
    key: &str,
    fingerprint: &[u8; 32],
) -> Result<Claim, ApiError> {
    let mut conn = state.store().acquire().await?;
    Ok(idempotency::claim(&mut conn, account, key, fingerprint, state.now()).await?)
}

fn replayed(status: u16) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    (
        status,
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            ),
            (
                IDEMPOTENCY_REPLAYED.clone(),
                HeaderValue::from_static("true"),
            ),
        ],
        r#"{"idempotent_replay":true}"#,
    )
        .into_response()
}
