//! Request extractors: strict JSON bodies, the client address, the signed-in caller and the
//! permission a route needs.

use crate::auth::Origin;
use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::rejection::JsonRejection;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::header::{AUTHORIZATION, USER_AGENT};
use axum::http::request::Parts;
use schild_core::ids::{SessionId, UserId};
use schild_core::rbac::{Need, PermissionSet};
use schild_core::token::{AccessClaims, TokenError};
use serde::de::DeserializeOwned;
use std::marker::PhantomData;
use std::net::{IpAddr, SocketAddr};

/// A JSON body whose every failure becomes a problem+json answer: wrong content type (415),
/// oversized (413), not JSON or not UTF-8 (400), wrong shape or unknown field (422).
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(value)) => Ok(Self(value)),
            Err(rejection) => Err(match rejection {
                JsonRejection::MissingJsonContentType(_) => ApiError::UnsupportedMediaType,
                JsonRejection::JsonSyntaxError(_) => ApiError::MalformedJson,
                JsonRejection::JsonDataError(error) => ApiError::InvalidBody {
                    detail: data_error_detail(&error.body_text()),
                },
                JsonRejection::BytesRejection(error)
                    if error.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE =>
                {
                    ApiError::PayloadTooLarge
                }
                JsonRejection::BytesRejection(_) => ApiError::MalformedJson,
                _ => ApiError::MalformedJson,
            }),
        }
    }
}

/// A path parameter whose parse failure is a problem+json 422 naming the parameter.
#[derive(Debug, Clone, Copy)]
pub struct ApiPath<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiPath<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(value)| Self(value))
            .map_err(|_| ApiError::Validation {
                field: "path",
                reason: "a path parameter is not valid".into(),
            })
    }
}

/// A query string whose parse failure is a problem+json 422.
#[derive(Debug, Clone, Copy)]
pub struct ApiQuery<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiQuery<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Query(value)| Self(value))
            .map_err(|rejection| ApiError::Validation {
                field: "query",
                reason: data_error_detail(&rejection.body_text()),
            })
    }
}

/// serde's data errors name the field and the expectation; strip axum's prefix and cap the length
/// so a hostile body cannot make the answer large.
fn data_error_detail(text: &str) -> String {
    let text = text
        .strip_prefix("Failed to deserialize the JSON body into the target type: ")
        .unwrap_or(text);
    text.chars().take(200).collect()
}

/// The client's address as seen on the socket.
///
/// Proxy headers such as `X-Forwarded-For` are deliberately ignored: trusting them without a
/// configured proxy would let any client choose the address that lockout and blocking count.
#[derive(Debug, Clone, Copy)]
pub struct ClientIp(pub IpAddr);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        // Through the extractor, not the raw extension, so router tests can use MockConnectInfo.
        ConnectInfo::<SocketAddr>::from_request_parts(parts, state)
            .await
            .map(|ConnectInfo(addr)| ClientIp(canonical_ip(addr.ip())))
            .map_err(|_| ApiError::internal(MissingConnectInfo))
    }
}

/// IPv4 clients on a dual-stack socket appear as `::ffff:a.b.c.d`; count them as the IPv4 address.
fn canonical_ip(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6
            .to_ipv4_mapped()
            .map(IpAddr::V4)
            .unwrap_or(IpAddr::V6(v6)),
        v4 => v4,
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Origin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let ClientIp(ip) = ClientIp::from_request_parts(parts, state).await?;
        let user_agent = parts
            .headers
            .get(USER_AGENT)
            .and_then(|value| value.to_str().ok())
            .map(|agent| agent.chars().take(USER_AGENT_MAX).collect());
        Ok(Origin {
            ip: Some(ip),
            user_agent,
            actor: None,
        })
    }
}

/// Longest `User-Agent` kept with a session.
const USER_AGENT_MAX: usize = 256;

#[derive(Debug, thiserror::Error)]
#[error(
    "the server was started without connection info; serve with into_make_service_with_connect_info"
)]
struct MissingConnectInfo;

/// A caller with a valid access token whose session is still active.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The verified claims.
    pub claims: AccessClaims,
}

impl Caller {
    /// The signed-in account.
    pub fn user(&self) -> UserId {
        self.claims.sub
    }

    /// The session the token belongs to.
    pub fn session(&self) -> SessionId {
        self.claims.sid
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.strip_prefix("Bearer "))
            .ok_or(ApiError::Unauthenticated)?;
        let now = state.now();
        let claims = state
            .verify_access(token, now)
            .await
            .map_err(|error| match error {
                TokenError::Expired => ApiError::TokenExpired,
                _ => ApiError::Unauthenticated,
            })?;
        // The session check makes logout and forced logout take effect at once, not at token expiry.
        if !state.sessions_active(claims.sid, now).await? {
            return Err(ApiError::SessionEnded);
        }
        Ok(Self { claims })
    }
}

/// A signed-in caller holding the permission `N` (one of [`need`](schild_core::rbac::need)).
///
/// Naming it in a handler's signature *is* the route's permission declaration; the route's
/// OpenAPI entry names the same permission as its bearer scope, and a test probes every route
/// to check that the two agree and that no route goes without.
#[derive(Debug, Clone)]
pub struct Authorized<N: Need> {
    /// The caller.
    pub caller: Caller,
    /// Everything the caller may do at this moment (for handlers that check more).
    pub permissions: PermissionSet,
    need: PhantomData<N>,
}

impl<N: Need> Authorized<N> {
    /// The signed-in account.
    pub fn user(&self) -> UserId {
        self.caller.user()
    }

    /// The session the token belongs to.
    pub fn session(&self) -> SessionId {
        self.caller.session()
    }
}

impl<N: Need> FromRequestParts<AppState> for Authorized<N> {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let caller = Caller::from_request_parts(parts, state).await?;
        let now = state.now();
        let permissions = state
            .authz()
            .permissions_of(state.store(), caller.user(), now)
            .await?;
        if !permissions.has(N::PERMISSION) {
            return Err(ApiError::MissingPermission(N::PERMISSION));
        }
        state
            .authz()
            .note_use(state.store(), caller.user(), N::PERMISSION, now)
            .await;
        Ok(Self {
            caller,
            permissions,
            need: PhantomData,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mapped_ipv4_counts_as_ipv4() {
        let mapped: IpAddr = "::ffff:192.0.2.9".parse().unwrap();
        assert_eq!(canonical_ip(mapped), "192.0.2.9".parse::<IpAddr>().unwrap());
        let v6: IpAddr = "2001:db8::1".parse().unwrap();
        assert_eq!(canonical_ip(v6), v6);
    }
}
