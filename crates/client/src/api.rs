//! Typed calls of the backend API that the desktop's own Rust code makes (the UI's calls go
//! through [`Client::send`](crate::Client::send) unchanged). Answers are checked into these
//! types; a refusal becomes [`ApiFailure::Refused`] with the backend's code and message.

use crate::{ApiAnswer, ApiRequest, Client, ClientError, Method};
use serde::Deserialize;
use serde::de::DeserializeOwned;

/// Why a typed call failed.
#[derive(Debug, thiserror::Error)]
pub enum ApiFailure {
    /// No answer, or the request was not sendable.
    #[error(transparent)]
    Client(#[from] ClientError),
    /// The backend refused.
    #[error("{message}")]
    Refused {
        /// The HTTP status.
        status: u16,
        /// The problem's stable code.
        code: String,
        /// Its title.
        message: String,
    },
    /// The answer was not what the API document promises.
    #[error("the backend's answer was not understood")]
    Unexpected,
}

/// A WebAuthn ceremony opened by the backend.
#[derive(Debug, Deserialize)]
pub struct Ceremony<T> {
    /// Send it back with the answer.
    pub ceremony_id: uuid::Uuid,
    /// The options for the authenticator.
    pub options: T,
}

/// A fresh session's tokens.
#[derive(Debug, Deserialize)]
pub struct Tokens {
    /// The access token.
    pub access_token: String,
}

/// The signed-in account.
#[derive(Debug, Deserialize)]
pub struct Profile {
    /// Its id.
    pub id: uuid::Uuid,
    /// Its sign-in name.
    pub username: String,
    /// Its roles.
    pub roles: Vec<String>,
    /// What it may do now.
    pub permissions: Vec<String>,
}

fn decode<T: DeserializeOwned>(answer: ApiAnswer) -> Result<T, ApiFailure> {
    if answer.succeeded() {
        return serde_json::from_str(&answer.body).map_err(|_| ApiFailure::Unexpected);
    }
    #[derive(Deserialize)]
    struct Problem {
        code: String,
        title: String,
    }
    let problem: Problem =
        serde_json::from_str(&answer.body).map_err(|_| ApiFailure::Unexpected)?;
    Err(ApiFailure::Refused {
        status: answer.status,
        code: problem.code,
        message: problem.title,
    })
}

impl Client {
    async fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<String>,
    ) -> Result<T, ApiFailure> {
        let answer = self
            .send(&ApiRequest {
                method,
                path: path.to_owned(),
                authorization: token.map(|t| format!("Bearer {t}")),
                idempotency_key: None,
                body,
            })
            .await?;
        decode(answer)
    }

    /// Opens a passwordless sign-in (`POST /auth/passwordless/options`).
    pub async fn passwordless_options<T: DeserializeOwned>(
        &self,
    ) -> Result<Ceremony<T>, ApiFailure> {
        self.call(
            Method::Post,
            "/api/v1/auth/passwordless/options",
            None,
            None,
        )
        .await
    }

    /// Signs in with the key's answer (`POST /auth/passwordless`).
    pub async fn passwordless(
        &self,
        ceremony_id: uuid::Uuid,
        credential: &impl serde::Serialize,
    ) -> Result<Tokens, ApiFailure> {
        let body = serde_json::json!({ "ceremony_id": ceremony_id, "credential": credential });
        self.call(
            Method::Post,
            "/api/v1/auth/passwordless",
            None,
            Some(body.to_string()),
        )
        .await
    }

    /// The signed-in account (`GET /me`).
    pub async fn me(&self, token: &str) -> Result<Profile, ApiFailure> {
        self.call(Method::Get, "/api/v1/me", Some(token), None)
            .await
    }

    /// Ends the token's session (`POST /auth/logout`).
    pub async fn logout(&self, token: &str) -> Result<(), ApiFailure> {
        let answer = self
            .send(&ApiRequest {
                method: Method::Post,
                path: "/api/v1/auth/logout".into(),
                authorization: Some(format!("Bearer {token}")),
                idempotency_key: None,
                body: None,
            })
            .await?;
        if answer.succeeded() {
            Ok(())
        } else {
            decode::<serde_json::Value>(answer).map(|_| ())
        }
    }
}
