//! Liveness, readiness and the public signing keys.

use crate::error::{ApiError, ApiResult, Problem};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(healthz))
        .routes(routes!(readyz))
        .routes(routes!(jwks))
}

/// A health answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// `ok`.
    status: &'static str,
}

/// The process is up.
#[utoipa::path(get, path = "/healthz", tag = "health", responses((status = 200, body = Health)))]
async fn healthz() -> Json<Health> {
    Json(Health { status: "ok" })
}

/// The process can serve requests: the database answers.
#[utoipa::path(get, path = "/readyz", tag = "health",
    responses((status = 200, body = Health), (status = 503, body = Problem)))]
async fn readyz(State(state): State<AppState>) -> ApiResult<Json<Health>> {
    state
        .store()
        .ping()
        .await
        .map_err(|_| ApiError::Unavailable)?;
    Ok(Json(Health { status: "ok" }))
}

/// The public keys that verify access tokens (RFC 7517 JWK Set, Ed25519 keys per RFC 8037).
#[utoipa::path(get, path = "/.well-known/jwks.json", tag = "health",
    responses((status = 200, description = "JWK Set", body = Object)))]
async fn jwks(State(state): State<AppState>) -> Json<serde_json::Value> {
    let keys = state.keys().read().await;
    Json(serde_json::to_value(keys.jwks()).unwrap_or_default())
}
