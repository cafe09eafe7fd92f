//! The webview's way to the backend: it asks this process, which makes the HTTP request. The
//! webview then needs no CORS exception and no network access of its own (its CSP allows only
//! IPC and the local backend), and requests can only go to the backend's API.

use crate::Desktop;
use crate::error::CommandError;
use serde::{Deserialize, Serialize};
use std::time::Duration;
use tauri::State;

/// One request from the UI's HTTP backend.
#[derive(Debug, Deserialize)]
pub struct FetchRequest {
    /// GET, POST, PUT, PATCH or DELETE.
    method: String,
    /// `/api/v1/…` or `/healthz`.
    path: String,
    /// The bearer token, when signed in.
    authorization: Option<String>,
    /// A JSON body.
    body: Option<String>,
}

/// The backend's answer, passed back unchanged.
#[derive(Debug, Serialize)]
pub struct FetchResponse {
    status: u16,
    content_type: Option<String>,
    body: String,
}

/// How long one request may take.
const TIMEOUT: Duration = Duration::from_secs(30);

fn method(name: &str) -> Result<reqwest::Method, CommandError> {
    match name {
        "GET" => Ok(reqwest::Method::GET),
        "POST" => Ok(reqwest::Method::POST),
        "PUT" => Ok(reqwest::Method::PUT),
        "PATCH" => Ok(reqwest::Method::PATCH),
        "DELETE" => Ok(reqwest::Method::DELETE),
        _ => Err(CommandError::new(
            "api.bad_request",
            "unsupported HTTP method",
        )),
    }
}

/// Whether `path` is one the UI may reach: the API and the health check, nothing else.
fn allowed(path: &str) -> bool {
    (path.starts_with("/api/v1/") || path == "/healthz")
        && !path.contains("..")
        && !path.contains('#')
        && !path.chars().any(char::is_whitespace)
}

/// Sends one request to the configured backend.
#[tauri::command]
pub async fn backend_fetch(
    desktop: State<'_, Desktop>,
    request: FetchRequest,
) -> Result<FetchResponse, CommandError> {
    if !allowed(&request.path) {
        return Err(CommandError::new(
            "api.bad_request",
            "only the backend's API can be reached",
        ));
    }
    let url = format!("{}{}", desktop.backend_url, request.path);
    let mut builder = desktop
        .http
        .request(method(&request.method)?, url)
        .timeout(TIMEOUT)
        .header(
            reqwest::header::ACCEPT,
            "application/json, application/problem+json, text/csv",
        );
    if let Some(token) = request.authorization {
        builder = builder.header(reqwest::header::AUTHORIZATION, token);
    }
    if let Some(body) = request.body {
        builder = builder
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body);
    }
    let response = builder.send().await.map_err(|_| {
        CommandError::new("offline", "the backend cannot be reached")
            .recommend("Check the network and the backend address in Settings.")
    })?;
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body = response.text().await.map_err(|_| {
        CommandError::new("offline", "the backend's answer was cut off").recommend("Try again.")
    })?;
    Ok(FetchResponse {
        status,
        content_type,
        body,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_api_and_health_check_are_reachable() {
        assert!(allowed("/api/v1/me"));
        assert!(allowed("/api/v1/admin/audit?limit=50"));
        assert!(allowed("/healthz"));
        assert!(!allowed("/api/v1/../../etc/passwd"));
        assert!(!allowed("https://elsewhere.example/api/v1/me"));
        assert!(!allowed("//elsewhere.example/api/v1/me"));
        assert!(!allowed("/metrics"));
        assert!(!allowed("/api/v1/me HTTP/1.1"));
        assert!(method("TRACE").is_err());
    }
}
