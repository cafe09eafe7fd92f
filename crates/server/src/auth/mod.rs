//! The sign-in flows: what happens between an HTTP request and the store, in one place, so the
//! HTTP handlers and the `schild admin` commands share exactly the same rules.

pub mod admin;
pub mod guard;
pub mod login;
pub(crate) mod reauth;
pub mod secrets;
pub mod security_keys;
pub mod session;
pub mod setup;
pub mod signing_keys;
pub mod totp;

use schild_core::audit::{AuditEvent, AuditRecord};
use schild_core::ids::UserId;
use std::net::IpAddr;
use time::OffsetDateTime;

/// Where a request came from, for sessions and the audit trail.
#[derive(Debug, Clone)]
pub struct Origin {
    /// The client address, when known (console commands have none).
    pub ip: Option<IpAddr>,
    /// The `User-Agent` header, truncated.
    pub user_agent: Option<String>,
    /// The signed-in person acting, when there is one.
    pub actor: Option<UserId>,
}

impl Origin {
    /// A request from the local console (`schild admin …`): no address, no signed-in actor.
    pub fn console() -> Self {
        Self {
            ip: None,
            user_agent: None,
            actor: None,
        }
    }

    /// The same origin with a signed-in person acting.
    pub fn acting(self, actor: UserId) -> Self {
        Self {
            actor: Some(actor),
            ..self
        }
    }

    /// Wraps an event with this origin's context.
    pub fn record(&self, at: OffsetDateTime, event: AuditEvent) -> AuditRecord {
        AuditRecord {
            at,
            actor: self.actor,
            source_ip: self.ip,
            event,
        }
    }
}
