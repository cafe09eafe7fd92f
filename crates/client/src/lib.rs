//! Schild's client of the backend API, as the desktop app uses it.
//!
//! - [`Client`] sends requests to one backend's `/api/v1` (nothing else is reachable through
//!   it), over TLS 1.3 with the system's roots or a [pinned certificate](CertificatePin).
//! - [`outbox`] keeps writes made while the backend cannot be reached, in the local database, and
//!   sends them when it is back: each with its client-generated id as `Idempotency-Key`, so an
//!   entry whose answer was lost is carried out once, not twice.

pub mod api;
pub mod outbox;
mod pinning;

pub use pinning::CertificatePin;

use std::time::Duration;

/// How long one request may take.
const TIMEOUT: Duration = Duration::from_secs(30);

/// Why a request was not answered.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// The request is not one this client sends (wrong path or method); nothing was sent.
    #[error("{0}")]
    BadRequest(&'static str),
    /// The backend address is not usable.
    #[error("the backend address is not valid: {0}")]
    BadAddress(String),
    /// No answer: the network or the backend is down, or the answer was cut off.
    #[error("the backend cannot be reached")]
    Unreachable,
    /// The local database failed.
    #[error(transparent)]
    Store(#[from] schild_store::StoreError),
}

/// An HTTP method the API uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// Reads.
    Get,
    /// Creates and actions.
    Post,
    /// Replaces.
    Put,
    /// Updates.
    Patch,
    /// Removes.
    Delete,
}

impl Method {
    /// Its name on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Get => "GET",
            Self::Post => "POST",
            Self::Put => "PUT",
            Self::Patch => "PATCH",
            Self::Delete => "DELETE",
        }
    }

    /// Whether it changes something (and so may be queued offline).
    pub fn writes(self) -> bool {
        self != Self::Get
    }
}

impl std::str::FromStr for Method {
    type Err = ClientError;
    fn from_str(name: &str) -> Result<Self, ClientError> {
        match name {
            "GET" => Ok(Self::Get),
            "POST" => Ok(Self::Post),
            "PUT" => Ok(Self::Put),
            "PATCH" => Ok(Self::Patch),
            "DELETE" => Ok(Self::Delete),
            _ => Err(ClientError::BadRequest("unsupported HTTP method")),
        }
    }
}

impl From<Method> for reqwest::Method {
    fn from(method: Method) -> Self {
        match method {
            Method::Get => Self::GET,
            Method::Post => Self::POST,
            Method::Put => Self::PUT,
            Method::Patch => Self::PATCH,
            Method::Delete => Self::DELETE,
        }
    }
}

/// One request to the backend.
#[derive(Debug, Clone)]
pub struct ApiRequest {
    /// The method.
    pub method: Method,
    /// `/api/v1/…` or `/healthz`, with any query string.
    pub path: String,
    /// `Bearer …`, when signed in.
    pub authorization: Option<String>,
    /// Names a write so that sending it again does not repeat it.
    pub idempotency_key: Option<String>,
    /// A JSON body.
    pub body: Option<String>,
}

/// The backend's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiAnswer {
    /// The HTTP status.
    pub status: u16,
    /// The `Content-Type`.
    pub content_type: Option<String>,
    /// Whether the backend had carried this write out before (`Idempotency-Replayed`).
    pub replayed: bool,
    /// The body: text for JSON, problem documents, CSV and SVG; base64 for anything else
    /// (a PNG report), as [`binary`](Self::binary) says.
    pub body: String,
    /// Whether `body` is base64 of a binary body.
    pub binary: bool,
}

impl ApiAnswer {
    /// Whether the backend accepted the request.
    pub fn succeeded(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

/// Whether `path` is one a client may reach: the API and the health check, nothing else.
pub fn reachable(path: &str) -> bool {
    (path.starts_with("/api/v1/") || path == "/healthz")
        && !path.contains("..")
        && !path.contains('#')
        && !path.contains('\\')
        && !path.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// A client of one backend.
#[derive(Debug, Clone)]
pub struct Client {
    base: String,
    http: reqwest::Client,
}

impl Client {
    /// A client of the backend at `base_url` (`https://…`, or plain `http://` on loopback),
    /// accepting only the certificate `pin` names when one is given.
    pub fn new(base_url: &str, pin: Option<CertificatePin>) -> Result<Self, ClientError> {
        let url = url::Url::parse(base_url).map_err(|e| ClientError::BadAddress(e.to_string()))?;
        let loopback = match url.host() {
            Some(url::Host::Domain(name)) => name == "localhost",
            Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
            Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
            None => false,
        };
        match url.scheme() {
            "https" => {}
            "http" if loopback => {}
            _ => {
                return Err(ClientError::BadAddress(
                    "use https:// (plain http only on this machine)".into(),
                ));
            }
        }
        if url.path() != "/" || url.query().is_some() || !url.username().is_empty() {
            return Err(ClientError::BadAddress(
                "give only the scheme, host and port".into(),
            ));
        }
        if pin.is_some() && url.scheme() != "https" {
            return Err(ClientError::BadAddress(
                "a certificate pin needs an https:// address".into(),
            ));
        }
        // reqwest's TLS needs a process-wide rustls provider; ring, as the rest of Schild uses.
        if rustls::crypto::CryptoProvider::get_default().is_none() {
            let _ = rustls::crypto::ring::default_provider().install_default();
        }
        let builder = reqwest::Client::builder().timeout(TIMEOUT);
        let builder = match pin {
            Some(pin) => builder.tls_backend_preconfigured(pinning::tls_config(pin)?),
            None => builder,
        };
        let http = builder
            .build()
            .map_err(|e| ClientError::BadAddress(e.to_string()))?;
        Ok(Self {
            base: base_url.trim_end_matches('/').to_owned(),
            http,
        })
    }

    /// The backend's address.
    pub fn base_url(&self) -> &str {
        &self.base
    }

    /// Sends one request and returns the backend's answer, whatever its status.
    pub async fn send(&self, request: &ApiRequest) -> Result<ApiAnswer, ClientError> {
        if !reachable(&request.path) {
            return Err(ClientError::BadRequest(
                "only the backend's API can be reached",
            ));
        }
        let mut builder = self
            .http
            .request(
                request.method.into(),
                format!("{}{}", self.base, request.path),
            )
            .header(
                reqwest::header::ACCEPT,
                "application/json, application/problem+json, text/csv",
            );
        if let Some(token) = &request.authorization {
            builder = builder.header(reqwest::header::AUTHORIZATION, token);
        }
        if let Some(key) = &request.idempotency_key {
            builder = builder.header("idempotency-key", key);
        }
        if let Some(body) = &request.body {
            builder = builder
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body.clone());
        }
        let response = builder.send().await.map_err(|error| {
            tracing::debug!(%error, "the backend did not answer");
            ClientError::Unreachable
        })?;
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let status = response.status().as_u16();
        let content_type = header("content-type");
        let replayed = header("idempotency-replayed").as_deref() == Some("true");
        let bytes = response
            .bytes()
            .await
            .map_err(|_| ClientError::Unreachable)?;
        let textual = content_type.as_deref().is_none_or(|kind| {
            kind.starts_with("text/") || kind.contains("json") || kind.contains("xml")
        });
        let (body, binary) = match String::from_utf8(bytes.to_vec()) {
            Ok(text) if textual => (text, false),
            _ => (data_encoding::BASE64.encode(&bytes), true),
        };
        Ok(ApiAnswer {
            status,
            content_type,
            replayed,
            body,
            binary,
        })
    }

    /// Whether the backend answers its health check.
    pub async fn healthy(&self) -> bool {
        let probe = ApiRequest {
            method: Method::Get,
            path: "/healthz".into(),
            authorization: None,
            idempotency_key: None,
            body: None,
        };
        self.send(&probe)
            .await
            .is_ok_and(|answer| answer.succeeded())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_api_and_health_check_are_reachable() {
        assert!(reachable("/api/v1/me"));
        assert!(reachable("/api/v1/admin/audit?limit=50"));
        assert!(reachable("/healthz"));
        assert!(!reachable("/api/v1/../../etc/passwd"));
        assert!(!reachable("https://elsewhere.example/api/v1/me"));
        assert!(!reachable("//elsewhere.example/api/v1/me"));
        assert!(!reachable("/metrics"));
        assert!(!reachable("/api/v1/me HTTP/1.1"));
        assert!(!reachable("/api/v1/me\r\nX-Evil: 1"));
        assert!("TRACE".parse::<Method>().is_err());
    }

    #[test]
    fn plain_http_only_on_this_machine() {
        assert!(Client::new("http://127.0.0.1:8700", None).is_ok());
        assert!(Client::new("http://localhost:8700", None).is_ok());
        assert!(Client::new("https://schild.example", None).is_ok());
        assert!(Client::new("http://schild.example", None).is_err());
        assert!(Client::new("ftp://schild.example", None).is_err());
        assert!(Client::new("https://schild.example/api", None).is_err());
        assert!(Client::new("not a url", None).is_err());
        let pin = CertificatePin::parse(&"ab".repeat(32)).ok();
        assert!(Client::new("http://127.0.0.1:8700", pin).is_err());
    }
}
