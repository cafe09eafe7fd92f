//! Access control: a permission catalogue, roles that bundle permissions, separation of duties,
//! just-in-time (JIT) grants, the effective permission set of a caller, and access-review
//! campaigns.
//!
//! Everything here is a pure function of its inputs: the current role definitions, the caller's
//! assignments and grants, and `now`. Persistence lives in `schild-store` (`roles`, `access`,
//! `usage`, `reviews`), the HTTP and CLI surfaces on top of that. Every state change returns the
//! [`AuditEvent`](crate::audit::AuditEvent)s to append in the same transaction as the change.
//!
//! The model follows NIST RBAC (INCITS 359): permissions are assigned to roles, roles to users,
//! and static separation-of-duty constraints forbid some role pairs on one user.

pub mod assignment;
pub mod effective;
pub mod jit;
pub mod permission;
pub mod review;
pub mod role;
pub mod sod;

pub use assignment::{AssignmentError, NewAssignment, RoleAssignment};
pub use effective::{PermissionSet, resolve};
pub use jit::{
    JitContext, JitError, JitGrant, JitPolicy, JitRequest, JitState, JitStatus, JitTarget,
    NewJitRequest,
};
pub use permission::{Need, Permission, UnknownPermission, need};
pub use review::{ReviewCampaign, ReviewError, ReviewItem, Verdict};
pub use role::{RoleCatalog, RoleDefinition, RoleDraft, RoleError, RoleName, RoleNameError};
pub use sod::{SodPolicy, SodViolation};

use serde::{Deserialize, Serialize};
use std::fmt;

use crate::ids::uuid_id;
use crate::pii::PiiKind;

uuid_id!(
    /// One just-in-time access request (and, once approved, its grant).
    JitRequestId
);
uuid_id!(
    /// One access-review campaign.
    CampaignId
);
uuid_id!(
    /// One item of a review campaign: a single role assignment under review.
    ReviewItemId
);

/// Why a [`Reason`] was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ReasonError {
    /// Empty or only whitespace: every grant, denial, revocation and review decision says why.
    #[error("a reason is required")]
    Empty,
    /// Longer than [`Reason::MAX_CHARS`] characters.
    #[error("a reason has at most {max} characters", max = Reason::MAX_CHARS)]
    TooLong,
}

/// A human justification for an access decision, a revocation or a legal hold: 1 to 500
/// characters after trimming.
///
/// Personal data the PII detectors find in it (e-mail addresses, phone numbers, IBANs, card
/// numbers, BSNs, dates of birth, postal addresses) is masked before the reason is kept, so the
/// audit trail and review reports never hold it: a reason justifies access, it is no place for a
/// customer's details. IP addresses stay readable: they are the subject of security work and are
/// recorded with every event anyway. Masking is idempotent, so a stored reason parses unchanged.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct Reason(String);

impl Reason {
    /// The longest accepted reason, in characters (Unicode scalar values).
    pub const MAX_CHARS: usize = 500;

    /// Trims and checks a reason.
    pub fn parse(raw: &str) -> Result<Self, ReasonError> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Err(ReasonError::Empty);
        }
        if raw.chars().count() > Self::MAX_CHARS {
            return Err(ReasonError::TooLong);
        }
        Ok(Self(crate::pii::mask_except(raw, &[PiiKind::IpAddress])))
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Reason {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        Reason::parse(&raw).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_are_trimmed_and_bounded() {
        assert_eq!(Reason::parse("  on call  ").unwrap().as_str(), "on call");
        assert_eq!(Reason::parse(" \n "), Err(ReasonError::Empty));
        assert!(Reason::parse(&"é".repeat(500)).is_ok());
        assert_eq!(Reason::parse(&"é".repeat(501)), Err(ReasonError::TooLong));
        assert!(serde_json::from_str::<Reason>("\"\"").is_err());
    }

    #[test]
    fn personal_data_in_a_reason_is_masked_and_ip_addresses_are_kept() {
        let raw = "refund for jan@example.nl to NL91 ABNA 0417 1643 00, traffic from 203.0.113.9";
        let reason = Reason::parse(raw).unwrap();
        let text = reason.as_str();
        assert!(!text.contains("jan@example.nl"), "{text}");
        assert!(!text.contains("0417 1643"), "{text}");
        assert!(text.contains("@example.nl"), "{text}");
        assert!(text.contains("203.0.113.9"), "{text}");
        assert!(text.starts_with("refund for "), "{text}");
        // Stored reasons are parsed again when read: masking twice changes nothing.
        assert_eq!(Reason::parse(text).unwrap(), reason);
        // Text without personal data is kept as written.
        assert_eq!(
            Reason::parse("on call for INC-42").unwrap().as_str(),
            "on call for INC-42"
        );
    }
}
