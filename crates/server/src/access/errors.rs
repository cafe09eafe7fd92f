//! How access-control refusals reach a client: the core's error, worded for people, becomes a
//! problem+json with a stable code. 422 for a field that can never be valid, 403 for a person
//! who may not take this step, 409 for a conflict with the current state. Nothing changed in
//! any of these cases.

use crate::error::{ApiError, Refusal};
use axum::http::StatusCode;
use schild_core::rbac::{AssignmentError, JitError, ReviewError, RoleError, SodViolation};

pub(crate) fn refused(
    status: StatusCode,
    code: &'static str,
    title: &'static str,
    recommendation: &'static str,
    detail: impl ToString,
) -> ApiError {
    ApiError::Refused(Refusal {
        status,
        code,
        title,
        recommendation,
        detail: detail.to_string(),
    })
}

fn invalid(field: &'static str, error: impl ToString) -> ApiError {
    ApiError::Validation {
        field,
        reason: error.to_string(),
    }
}

fn already_decided(detail: impl ToString) -> ApiError {
    refused(
        StatusCode::CONFLICT,
        "already_decided",
        "This has already been decided.",
        "Reload to see the current state.",
        detail,
    )
}

impl From<SodViolation> for ApiError {
    fn from(violation: SodViolation) -> Self {
        refused(
            StatusCode::CONFLICT,
            "separation_of_duties",
            "These roles may not be held by one person.",
            "Give the role to someone else, or remove the conflicting role first.",
            violation,
        )
    }
}

impl From<RoleError> for ApiError {
    fn from(error: RoleError) -> Self {
        match error {
            RoleError::DescriptionEmpty | RoleError::DescriptionTooLong { .. } => {
                invalid("description", error)
            }
            RoleError::ApprovalsOutOfRange { .. } => invalid("approvals_required", error),
            RoleError::JitDurationOutOfRange { .. } => invalid("max_jit_minutes", error),
            RoleError::ReservedName { .. } | RoleError::UnknownRole { .. } => {
                invalid("name", error)
            }
            RoleError::Builtin { .. } => refused(
                StatusCode::CONFLICT,
                "role_builtin",
                "Built-in roles cannot be changed or deleted.",
                "Create a custom role with the permissions you need instead.",
                error,
            ),
            RoleError::AlreadyExists { .. } => role_name_taken(error),
            _ => ApiError::internal(error),
        }
    }
}

pub(crate) fn role_name_taken(detail: impl ToString) -> ApiError {
    refused(
        StatusCode::CONFLICT,
        "role_name_taken",
        "A role with this name already exists.",
        "Choose another name, or change the existing role.",
        detail,
    )
}

pub(crate) fn role_in_use(detail: impl ToString) -> ApiError {
    refused(
        StatusCode::CONFLICT,
        "role_in_use",
        "This role is still assigned.",
        "Remove it from everyone who holds it, then delete it.",
        detail,
    )
}

pub(crate) fn already_assigned(detail: impl ToString) -> ApiError {
    refused(
        StatusCode::CONFLICT,
        "already_assigned",
        "The account already holds this role.",
        "Nothing to do.",
        detail,
    )
}

/// Nobody grants roles to themselves.
pub(crate) fn self_assignment() -> ApiError {
    refused(
        StatusCode::FORBIDDEN,
        "self_assignment",
        "You cannot assign roles to yourself.",
        "Ask another administrator, or request the role just in time.",
        "the account to change is your own",
    )
}

/// Removing `admin` from its last holder would leave nobody able to administer the backend.
pub(crate) fn last_admin() -> ApiError {
    refused(
        StatusCode::CONFLICT,
        "last_admin",
        "This is the last administrator.",
        "Assign the admin role to someone else first.",
        "the admin role must keep at least one holder",
    )
}

/// Another request changed the same record between our read and our write.
pub(crate) fn changed_concurrently() -> ApiError {
    refused(
        StatusCode::CONFLICT,
        "changed_concurrently",
        "Someone else changed this at the same moment.",
        "Reload and try again.",
        "the record changed while this request was being handled",
    )
}

impl From<AssignmentError> for ApiError {
    fn from(error: AssignmentError) -> Self {
        match error {
            AssignmentError::UnknownRole { .. } => invalid("role", error),
            AssignmentError::AlreadyAssigned { .. } => already_assigned(error),
            AssignmentError::NotAssigned { .. } => refused(
                StatusCode::NOT_FOUND,
                "not_assigned",
                "The account does not hold this role.",
                "Check the account's roles.",
                error,
            ),
            AssignmentError::SeparationOfDuties(violation) => violation.into(),
            AssignmentError::Reason(reason) => invalid("reason", reason),
            _ => ApiError::internal(error),
        }
    }
}

impl From<JitError> for ApiError {
    fn from(error: JitError) -> Self {
        match error {
            JitError::ReasonEmpty | JitError::ReasonTooLong { .. } => invalid("reason", error),
            JitError::DurationNotPositive | JitError::DurationTooLong { .. } => {
                invalid("duration_minutes", error)
            }
            JitError::UnknownRole { .. } | JitError::NotRequestable { .. } => {
                invalid("role", error)
            }
            JitError::AlreadyHeld => refused(
                StatusCode::CONFLICT,
                "already_held",
                "You already hold this access.",
                "Nothing to request.",
                error,
            ),
            JitError::SeparationOfDuties(violation) => violation.into(),
            JitError::SelfApproval => refused(
                StatusCode::FORBIDDEN,
                "self_approval",
                "You cannot decide your own request.",
                "Ask another person who may approve access requests.",
                error,
            ),
            JitError::NotAnApprover => {
                ApiError::MissingPermission(schild_core::rbac::Permission::AccessApprove)
            }
            JitError::AlreadyApproved => refused(
                StatusCode::CONFLICT,
                "already_approved",
                "You have already approved this request.",
                "A second approval has to come from someone else.",
                error,
            ),
            JitError::AlreadyDecided => already_decided(error),
            JitError::Expired => refused(
                StatusCode::CONFLICT,
                "expired",
                "This request or grant has expired.",
                "Make a new request.",
                error,
            ),
            JitError::NotActive | JitError::NotYetExpired => refused(
                StatusCode::CONFLICT,
                "not_active",
                "This request has no active grant.",
                "Reload to see the current state.",
                error,
            ),
            _ => ApiError::internal(error),
        }
    }
}

impl From<ReviewError> for ApiError {
    fn from(error: ReviewError) -> Self {
        match error {
            ReviewError::NameEmpty | ReviewError::NameTooLong { .. } => invalid("name", error),
            ReviewError::DeadlineNotInFuture => invalid("deadline", error),
            ReviewError::PolicyOutOfRange => invalid("policy", error),
            ReviewError::ReasonRequired | ReviewError::ReasonTooLong { .. } => {
                invalid("reason", error)
            }
            ReviewError::UnknownItem => ApiError::NotFound,
            ReviewError::NotAReviewer => {
                ApiError::MissingPermission(schild_core::rbac::Permission::ReviewDecide)
            }
            ReviewError::SelfReview => refused(
                StatusCode::FORBIDDEN,
                "self_review",
                "Nobody may review their own access.",
                "Leave this item to another reviewer.",
                error,
            ),
            ReviewError::AlreadyDecided => already_decided(error),
            ReviewError::Completed => refused(
                StatusCode::CONFLICT,
                "campaign_completed",
                "This review campaign is complete.",
                "Start a new campaign to review again.",
                error,
            ),
            _ => ApiError::internal(error),
        }
    }
}
