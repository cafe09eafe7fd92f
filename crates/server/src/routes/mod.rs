//! The HTTP API under `/api/v1`, one module per route group, each with its own `router()`.
//!
//! Routes are registered through `utoipa_axum`, so a route cannot exist without its OpenAPI entry.

mod admin;
mod api_keys;
mod auth;
pub(crate) mod dashboard;
mod dto;
mod health;
mod jit;
mod me;
mod retention;
mod reviews;
mod roles;
mod security_keys;
mod setup;

use crate::error::ApiError;
use crate::state::AppState;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, HeaderValue, header};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::sensitive_headers::SetSensitiveHeadersLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::{DefaultMakeSpan, DefaultOnResponse, TraceLayer};
use tracing::Level;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;

/// Largest accepted request body. Every request of this API is a small JSON object.
pub const BODY_LIMIT: usize = 16 * 1024;

#[derive(OpenApi)]
#[openapi(
    info(title = "Schild security backend", description = "Sign-in, sessions, second factors, access control and administration. Every authenticated operation names the one permission it needs as its bearer scope."),
    modifiers(&BearerAuth),
    tags(
        (name = "auth", description = "Sign-in, refresh and logout"),
        (name = "me", description = "The signed-in account's own factors and sessions"),
        (name = "admin", description = "Administration of accounts, sessions, blocks, audit and keys"),
        (name = "roles", description = "Roles, their permissions and who holds them"),
        (name = "access", description = "Just-in-time access requests and grants"),
        (name = "reviews", description = "Access-review campaigns"),
        (name = "keys", description = "Security keys of any account, and the inventory of issued keys"),
        (name = "api-keys", description = "API keys of machine clients: issue, list, revoke"),
        (name = "retention", description = "Retention policies, legal holds and the purge"),
        (name = "setup", description = "First-admin setup"),
        (name = "health", description = "Liveness, readiness and keys"),
    )
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

/// The API's routes and their OpenAPI document.
pub fn api() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .nest(
            "/api/v1",
            auth::router()
                .merge(me::router())
                .merge(admin::router())
                .merge(dashboard::router())
                .merge(roles::router())
                .merge(jit::router())
                .merge(reviews::router())
                .merge(security_keys::router())
                .merge(api_keys::router())
                .merge(retention::router())
                .merge(setup::router()),
        )
        .merge(health::router())
        .split_for_parts()
}

/// The complete application: routes, the OpenAPI document at `/api/v1/openapi.json`, problem+json
/// for unknown routes, and the cross-cutting layers (body limit, request ids, tracing, headers).
pub fn app(state: AppState) -> Router {
    let (routes, openapi) = api();
    let openapi = std::sync::Arc::new(openapi);
    let request_id = HeaderName::from_static("x-request-id");
    routes
        .route(
            "/api/v1/openapi.json",
            axum::routing::get(move || {
                let openapi = std::sync::Arc::clone(&openapi);
                async move { axum::Json(openapi.as_ref().clone()) }
            }),
        )
        .fallback(|| async { ApiError::NotFound })
        .method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed })
        .with_state(state.clone())
        .layer(axum::middleware::from_fn_with_state(
            state,
            crate::idempotency::guard,
        ))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(SetResponseHeaderLayer::overriding(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        // One INFO line per request (method, path, status, latency); headers and bodies are
        // never logged.
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(DefaultMakeSpan::new().level(Level::INFO))
                .on_response(DefaultOnResponse::new().level(Level::INFO)),
        )
        .layer(SetSensitiveHeadersLayer::new([
            header::AUTHORIZATION,
            header::COOKIE,
        ]))
        .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid))
}
