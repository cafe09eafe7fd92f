//! First-admin setup with the one-time token printed by the server.

use super::dto::{
    PASSWORD_FIELD_MAX, TOKEN_FIELD_MAX, USERNAME_FIELD_MAX, UserView, bounded, bounded_bytes,
};
use crate::auth::admin::NewAccount;
use crate::auth::{Origin, setup};
use crate::error::{ApiResult, Problem};
use crate::extract::ApiJson;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(complete_setup))
}

/// The first administrator, with the setup token.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetupRequest {
    /// The one-time token the server printed at start.
    #[schema(value_type = String, format = Password)]
    setup_token: SecretString,
    /// Sign-in name of the first administrator.
    username: String,
    /// Display name.
    display_name: String,
    /// Password (checked for strength).
    #[schema(value_type = String, format = Password)]
    password: SecretString,
}

/// Creates the first administrator. Works once, with the token printed on the server's console.
#[utoipa::path(post, path = "/setup", tag = "setup", request_body = SetupRequest,
    responses((status = 201, body = UserView),
        (status = 401, description = "Wrong, used or expired setup token", body = Problem),
        (status = 409, description = "Setup already done", body = Problem),
        (status = 422, body = Problem)))]
async fn complete_setup(
    State(state): State<AppState>,
    origin: Origin,
    ApiJson(body): ApiJson<SetupRequest>,
) -> ApiResult<(StatusCode, Json<UserView>)> {
    bounded(
        "setup_token",
        body.setup_token.expose_secret(),
        TOKEN_FIELD_MAX,
    )?;
    bounded("username", &body.username, USERNAME_FIELD_MAX)?;
    bounded("display_name", &body.display_name, USERNAME_FIELD_MAX)?;
    bounded_bytes(
        "password",
        body.password.expose_secret(),
        PASSWORD_FIELD_MAX,
    )?;
    let account = NewAccount {
        username: body.username,
        display_name: body.display_name,
        password: body.password,
        roles: Vec::new(),
    };
    let user = setup::complete(&state, body.setup_token.expose_secret(), account, &origin).await?;
    Ok((StatusCode::CREATED, Json(UserView::from(user))))
}
