//! Data retention: how long each class of record is kept after it ends, legal holds that
//! suspend deletion, and a pure planner that says what may go at a given moment.
//!
//! Every record has a moment it *ends* — an audit event when it happens, a session when it
//! expires or is revoked, an API key when it expires or is revoked — and its class's
//! [`RetentionPeriod`] counts from there. Storage limitation (GDPR Art. 5(1)(e)) asks that
//! personal data go once it is no longer needed; accountability and incident handling ask that
//! enough stays to reconstruct what happened. The defaults (see [`DataClass::default_period`])
//! balance the two, and each class has a floor below which no policy may go, so the audit trail
//! in particular cannot be shortened into uselessness.
//!
//! A [`LegalHold`] suspends deletion for a whole class, or for the records of one account in it
//! (for example: everything about an employee under investigation), until it is released.
//!
//! [`plan`] turns the policies, the holds and `now` into a [`RetentionPlan`]: per class, the cutoff
//! (records that ended strictly before it may go) and what the holds keep. It is the reference for
//! the store's purge queries, which apply the same rule in SQL.

use crate::audit::AuditEvent;
use crate::ids::{UserId, uuid_id};
use crate::rbac::{Reason, ReasonError};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::str::FromStr;
use time::{Duration, OffsetDateTime};

uuid_id!(
    /// One legal hold.
    HoldId
);

/// A name that is not one of the [`DataClass`]es.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown data class {name:?}: use one of audit_events, sessions, api_keys, vault_items, incidents, training_records"
)]
pub struct UnknownDataClass {
    /// What was given, cut to 64 characters.
    pub name: String,
}

/// A kind of record with its own retention period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum DataClass {
    /// The audit trail. A record ends when its event happens.
    AuditEvents,
    /// Sign-in sessions with their refresh-token families. A session ends when it expires or is
    /// revoked, whichever comes first.
    Sessions,
    /// API keys of machine clients. A key ends when it expires or is revoked, whichever comes
    /// first.
    ApiKeys,
    /// Items of the key vault. An item ends when it is deleted.
    VaultItems,
    /// Incidents with their evidence. An incident ends when it is closed.
    Incidents,
    /// Security-awareness training records. A record ends when the training is completed.
    TrainingRecords,
}

impl DataClass {
    /// Every class, in a fixed order (the order reports list them in).
    pub const ALL: [DataClass; 6] = [
        Self::AuditEvents,
        Self::Sessions,
        Self::ApiKeys,
        Self::VaultItems,
        Self::Incidents,
        Self::TrainingRecords,
    ];

    /// The stable name, as stored and sent: `audit_events`, `sessions`, …
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::AuditEvents => "audit_events",
            Self::Sessions => "sessions",
            Self::ApiKeys => "api_keys",
            Self::VaultItems => "vault_items",
            Self::Incidents => "incidents",
            Self::TrainingRecords => "training_records",
        }
    }

    /// What the class holds and when its records end, for people setting policies.
    pub const fn description(self) -> &'static str {
        match self {
            Self::AuditEvents => "Audit events, counted from when they happened.",
            Self::Sessions => {
                "Sign-in sessions and their refresh tokens, counted from their expiry or revocation."
            }
            Self::ApiKeys => "API keys, counted from their expiry or revocation.",
            Self::VaultItems => {
                "Key-vault items. A removed item is crypto-shredded at once, so none are kept to purge."
            }
            Self::Incidents => "Incidents and their evidence, counted from their closure.",
            Self::TrainingRecords => {
                "Security-awareness training records, counted from their completion."
            }
        }
    }

    /// How long records are kept when no policy says otherwise:
    ///
    /// | class | kept after it ends | why |
    /// |---|---|---|
    /// | audit events | 1 year | a year of history covers annual audits and slow-burning incidents |
    /// | sessions | 30 days | long enough to investigate a suspicious sign-in reported late |
    /// | API keys | 90 days | one default key lifetime: who had which key stays visible through its successor's life |
    /// | vault items | 30 days | no effect: a removed item is crypto-shredded at once (secure deletion wins over recovery) |
    /// | incidents | 3 years | evidence for follow-up, insurers and regulators |
    /// | training records | 3 years | proof of awareness training across a certification cycle |
    pub const fn default_period(self) -> RetentionPeriod {
        RetentionPeriod(match self {
            Self::AuditEvents => 365,
            Self::Sessions | Self::VaultItems => 30,
            Self::ApiKeys => 90,
            Self::Incidents | Self::TrainingRecords => 3 * 365,
        })
    }

    /// The shortest period a policy may set: 90 days for the audit trail (so it cannot be cut
    /// short to hide recent events), a year for incidents and training records, a day for the
    /// rest.
    pub const fn minimum_days(self) -> u32 {
        match self {
            Self::AuditEvents => 90,
            Self::Incidents | Self::TrainingRecords => 365,
            Self::Sessions | Self::ApiKeys | Self::VaultItems => 1,
        }
    }

    /// Its position in [`DataClass::ALL`].
    const fn position(self) -> usize {
        match self {
            Self::AuditEvents => 0,
            Self::Sessions => 1,
            Self::ApiKeys => 2,
            Self::VaultItems => 3,
            Self::Incidents => 4,
            Self::TrainingRecords => 5,
        }
    }

    /// Parses a name produced by [`DataClass::as_str`].
    pub fn parse(name: &str) -> Result<Self, UnknownDataClass> {
        Self::ALL
            .into_iter()
            .find(|class| class.as_str() == name)
            .ok_or_else(|| UnknownDataClass {
                name: name.chars().take(64).collect(),
            })
    }
}

impl fmt::Display for DataClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for DataClass {
    type Err = UnknownDataClass;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl Serialize for DataClass {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for DataClass {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        Self::parse(&raw).map_err(serde::de::Error::custom)
    }
}

/// Why a retention period was refused. Nothing changed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PolicyError {
    /// Shorter than the class allows ([`DataClass::minimum_days`]).
    #[error("{class} are kept at least {min_days} days")]
    TooShort {
        /// The class.
        class: DataClass,
        /// Its floor.
        min_days: u32,
    },
    /// Longer than [`RetentionPeriod::MAX_DAYS`].
    #[error("records are kept at most {max_days} days", max_days = RetentionPeriod::MAX_DAYS)]
    TooLong,
}

/// How long a class's records are kept after they end, in whole days.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct RetentionPeriod(u32);

impl RetentionPeriod {
    /// The longest period: ten years. Longer than that, a record is an archive, not retention.
    pub const MAX_DAYS: u32 = 3650;

    /// A period of `days` for `class`, within the class's floor and [`Self::MAX_DAYS`].
    pub fn for_class(class: DataClass, days: u32) -> Result<Self, PolicyError> {
        if days < class.minimum_days() {
            return Err(PolicyError::TooShort {
                class,
                min_days: class.minimum_days(),
            });
        }
        if days > Self::MAX_DAYS {
            return Err(PolicyError::TooLong);
        }
        Ok(Self(days))
    }

    /// Its length in days.
    pub const fn days(self) -> u32 {
        self.0
    }

    /// Its length.
    pub fn duration(self) -> Duration {
        Duration::days(i64::from(self.0))
    }
}

/// The retention period of every class: the defaults, with whatever an administrator changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetentionPolicies {
    periods: BTreeMap<DataClass, RetentionPeriod>,
}

impl Default for RetentionPolicies {
    /// Every class at its [`DataClass::default_period`].
    fn default() -> Self {
        Self {
            periods: DataClass::ALL
                .into_iter()
                .map(|class| (class, class.default_period()))
                .collect(),
        }
    }
}

impl RetentionPolicies {
    /// The defaults with `overrides` applied (checked values, as stored).
    pub fn with_overrides(
        overrides: impl IntoIterator<Item = (DataClass, RetentionPeriod)>,
    ) -> Self {
        let mut policies = Self::default();
        policies.periods.extend(overrides);
        policies
    }

    /// The period of `class`.
    pub fn period(&self, class: DataClass) -> RetentionPeriod {
        self.periods
            .get(&class)
            .copied()
            .unwrap_or_else(|| class.default_period())
    }

    /// Every class with its period, in [`DataClass::ALL`] order.
    pub fn iter(&self) -> impl Iterator<Item = (DataClass, RetentionPeriod)> + '_ {
        DataClass::ALL
            .into_iter()
            .map(|class| (class, self.period(class)))
    }

    /// Sets the period of `class` to `days`. Returns the audit event, or `None` when the period
    /// already was `days` (nothing to record).
    pub fn set(&mut self, class: DataClass, days: u32) -> Result<Option<AuditEvent>, PolicyError> {
        let period = RetentionPeriod::for_class(class, days)?;
        let previous = self.period(class);
        if previous == period {
            return Ok(None);
        }
        self.periods.insert(class, period);
        Ok(Some(AuditEvent::RetentionPolicyChanged {
            class,
            keep_days: period.days(),
            previous_days: previous.days(),
        }))
    }
}

/// Why a hold could not be placed or released. Nothing changed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HoldError {
    /// The reason is empty or too long: every hold and release says why.
    #[error("{0}")]
    Reason(#[from] ReasonError),
    /// The hold was released before; a released hold stays released (place a new one).
    #[error("this legal hold is already released")]
    AlreadyReleased,
}

/// What someone asks for when placing a hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewHold<'a> {
    /// Which class it keeps.
    pub class: DataClass,
    /// Only the records about this account; `None`: the whole class.
    pub subject: Option<UserId>,
    /// Why (a case or matter reference, 1 to 500 characters).
    pub reason: &'a str,
    /// Who places it; `None` for the console.
    pub placed_by: Option<UserId>,
}

/// The end of a hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HoldRelease {
    /// When.
    pub at: OffsetDateTime,
    /// Who released it; `None` for the console.
    pub by: Option<UserId>,
    /// Why.
    pub reason: Reason,
}

/// A legal hold: while in force, the records it covers are not purged, however old.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LegalHold {
    /// Its id.
    pub id: HoldId,
    /// The class it keeps.
    pub class: DataClass,
    /// The account whose records it keeps (the subject of audit events, the holder of sessions,
    /// the owner of API keys); `None`: every record of the class.
    pub subject: Option<UserId>,
    /// Why it was placed.
    pub reason: Reason,
    /// Who placed it; `None` for the console.
    pub placed_by: Option<UserId>,
    /// When.
    pub placed_at: OffsetDateTime,
    /// Its release, once released.
    pub release: Option<HoldRelease>,
}

impl LegalHold {
    /// Places a hold; returns it and the audit event to append with it.
    pub fn place(
        new: NewHold<'_>,
        now: OffsetDateTime,
        rng: &mut impl rand::CryptoRng,
    ) -> Result<(Self, AuditEvent), HoldError> {
        let reason = Reason::parse(new.reason)?;
        let hold = Self {
            id: HoldId::new_v7(now, rng),
            class: new.class,
            subject: new.subject,
            reason,
            placed_by: new.placed_by,
            placed_at: now,
            release: None,
        };
        let event = AuditEvent::LegalHoldPlaced {
            hold: hold.id,
            class: hold.class,
            account: hold.subject,
            reason: hold.reason.to_string(),
        };
        Ok((hold, event))
    }

    /// Releases the hold; returns it released and the audit event.
    pub fn release(
        &self,
        by: Option<UserId>,
        reason: &str,
        now: OffsetDateTime,
    ) -> Result<(Self, AuditEvent), HoldError> {
        let reason = Reason::parse(reason)?;
        if self.release.is_some() {
            return Err(HoldError::AlreadyReleased);
        }
        let event = AuditEvent::LegalHoldReleased {
            hold: self.id,
            class: self.class,
            account: self.subject,
            reason: reason.to_string(),
        };
        let released = Self {
            release: Some(HoldRelease {
                at: now,
                by,
                reason,
            }),
            ..self.clone()
        };
        Ok((released, event))
    }

    /// Whether it still keeps records (it has not been released).
    pub fn in_force(&self) -> bool {
        self.release.is_none()
    }
}

/// What retention allows for one class at one moment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClassPlan {
    /// The class.
    pub class: DataClass,
    /// Its period.
    pub keep: RetentionPeriod,
    /// Records that ended strictly before this instant are past their period.
    pub cutoff: OffsetDateTime,
    /// Holds in force on the whole class: while any is, nothing of it goes.
    pub held_by: Vec<HoldId>,
    /// Accounts with a hold in force on their records of this class.
    pub exempt: BTreeSet<UserId>,
}

impl ClassPlan {
    /// Whether a hold keeps the whole class.
    pub fn is_held(&self) -> bool {
        !self.held_by.is_empty()
    }

    /// Whether a record of this class that ended at `ended_at`, about `subject`, may be purged:
    /// it ended before the cutoff, and no hold in force covers it.
    pub fn is_expired(&self, ended_at: OffsetDateTime, subject: Option<UserId>) -> bool {
        !self.is_held()
            && ended_at < self.cutoff
            && subject.is_none_or(|subject| !self.exempt.contains(&subject))
    }
}

/// What retention allows for every class at one moment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetentionPlan {
    /// The moment it was made for.
    pub at: OffsetDateTime,
    /// One plan per class, in [`DataClass::ALL`] order.
    classes: [ClassPlan; DataClass::ALL.len()],
}

impl RetentionPlan {
    /// The plan of `class`.
    pub fn class(&self, class: DataClass) -> &ClassPlan {
        &self.classes[class.position()]
    }

    /// Every class's plan, in [`DataClass::ALL`] order.
    pub fn iter(&self) -> impl Iterator<Item = &ClassPlan> {
        self.classes.iter()
    }
}

/// The plan at `now`: per class, the cutoff `now − period` and what the holds in force keep.
pub fn plan(
    policies: &RetentionPolicies,
    holds: &[LegalHold],
    now: OffsetDateTime,
) -> RetentionPlan {
    let classes = DataClass::ALL.map(|class| {
        let keep = policies.period(class);
        let (mut held_by, mut exempt) = (Vec::new(), BTreeSet::new());
        for hold in holds
            .iter()
            .filter(|hold| hold.class == class && hold.in_force())
        {
            match hold.subject {
                None => held_by.push(hold.id),
                Some(subject) => {
                    exempt.insert(subject);
                }
            }
        }
        ClassPlan {
            class,
            keep,
            cutoff: now - keep.duration(),
            held_by,
            exempt,
        }
    });
    RetentionPlan { at: now, classes }
}

/// How one class fared in a purge run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClassOutcome {
    /// Expired records were deleted (possibly none).
    Purged,
    /// A hold on the whole class kept everything.
    Held,
    /// Schild keeps no records of this class yet.
    NotRecorded,
    /// The class's purge failed and was rolled back; it is retried at the next run.
    Failed,
}

/// One class's line in a purge run's audit event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PurgeCount {
    /// The class.
    pub class: DataClass,
    /// How it fared.
    pub outcome: ClassOutcome,
    /// How many records went.
    pub purged: u64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rand::SeedableRng as _;
    use time::macros::datetime;

    const T0: OffsetDateTime = datetime!(2026-12-04 10:00 UTC);

    fn user(n: u128) -> UserId {
        UserId(uuid::Uuid::from_u128(n))
    }

    fn rng() -> rand::rngs::StdRng {
        rand::rngs::StdRng::seed_from_u64(9)
    }

    fn hold(class: DataClass, subject: Option<UserId>) -> LegalHold {
        LegalHold::place(
            NewHold {
                class,
                subject,
                reason: "matter 2026-17",
                placed_by: None,
            },
            T0,
            &mut rng(),
        )
        .unwrap()
        .0
    }

    #[test]
    fn names_round_trip_and_defaults_are_within_bounds() {
        for (position, class) in DataClass::ALL.into_iter().enumerate() {
            assert_eq!(class.position(), position);
            assert_eq!(DataClass::parse(class.as_str()), Ok(class));
            let json = serde_json::to_string(&class).unwrap();
            assert_eq!(serde_json::from_str::<DataClass>(&json).unwrap(), class);
            let default = class.default_period();
            assert_eq!(
                RetentionPeriod::for_class(class, default.days()),
                Ok(default)
            );
            assert!(class.description().ends_with('.'));
        }
        assert_eq!(
            DataClass::parse("logs"),
            Err(UnknownDataClass {
                name: "logs".into()
            })
        );
        let defaults = RetentionPolicies::default();
        assert_eq!(defaults.period(DataClass::AuditEvents).days(), 365);
        assert_eq!(defaults.period(DataClass::Sessions).days(), 30);
        assert_eq!(defaults.period(DataClass::ApiKeys).days(), 90);
    }

    #[test]
    fn periods_are_bounded_per_class() {
        let mut policies = RetentionPolicies::default();
        assert_eq!(
            policies.set(DataClass::AuditEvents, 89),
            Err(PolicyError::TooShort {
                class: DataClass::AuditEvents,
                min_days: 90
            })
        );
        assert_eq!(
            policies.set(DataClass::Sessions, 0),
            Err(PolicyError::TooShort {
                class: DataClass::Sessions,
                min_days: 1
            })
        );
        assert_eq!(
            policies.set(DataClass::Sessions, 3651),
            Err(PolicyError::TooLong)
        );
        assert_eq!(
            policies,
            RetentionPolicies::default(),
            "refusals change nothing"
        );
        assert_eq!(policies.set(DataClass::Sessions, 30), Ok(None));
        assert_eq!(
            policies.set(DataClass::Sessions, 7),
            Ok(Some(AuditEvent::RetentionPolicyChanged {
                class: DataClass::Sessions,
                keep_days: 7,
                previous_days: 30
            }))
        );
        assert_eq!(policies.period(DataClass::Sessions).days(), 7);
        let classes: Vec<_> = policies.iter().map(|(class, _)| class).collect();
        assert_eq!(classes, DataClass::ALL);
    }

    #[test]
    fn holds_are_placed_and_released_once() {
        let placed = hold(DataClass::Sessions, Some(user(1)));
        assert!(placed.in_force());
        let (released, event) = placed
            .release(Some(user(2)), "matter closed", T0 + Duration::days(3))
            .unwrap();
        assert!(!released.in_force());
        assert_eq!(event.kind(), "retention.hold.released");
        assert_eq!(event.subject(), Some(user(1)));
        assert_eq!(
            released.release(None, "again", T0).map(|_| ()),
            Err(HoldError::AlreadyReleased)
        );
        assert_eq!(
            placed.release(None, "", T0).map(|_| ()),
            Err(HoldError::Reason(ReasonError::Empty))
        );
        assert!(matches!(
            LegalHold::place(
                NewHold {
                    class: DataClass::Sessions,
                    subject: None,
                    reason: " ",
                    placed_by: None
                },
                T0,
                &mut rng()
            ),
            Err(HoldError::Reason(ReasonError::Empty))
        ));
    }

    #[test]
    fn the_plan_cuts_at_now_minus_the_period_and_honours_holds() {
        let alice = user(1);
        let bob = user(2);
        let released = hold(DataClass::AuditEvents, None)
            .release(None, "done", T0)
            .unwrap()
            .0;
        let holds = [
            hold(DataClass::Sessions, Some(alice)),
            hold(DataClass::ApiKeys, None),
            released,
        ];
        let plan = plan(&RetentionPolicies::default(), &holds, T0);
        let sessions = plan.class(DataClass::Sessions);
        assert_eq!(sessions.cutoff, T0 - Duration::days(30));
        let old = sessions.cutoff - Duration::milliseconds(1);
        assert!(sessions.is_expired(old, Some(bob)));
        assert!(!sessions.is_expired(old, Some(alice)), "alice is on hold");
        assert!(
            !sessions.is_expired(sessions.cutoff, Some(bob)),
            "the cutoff itself is kept"
        );
        let keys = plan.class(DataClass::ApiKeys);
        assert!(keys.is_held());
        assert!(!keys.is_expired(T0 - Duration::days(9999), Some(bob)));
        let audit = plan.class(DataClass::AuditEvents);
        assert!(!audit.is_held(), "a released hold keeps nothing");
        assert!(audit.is_expired(T0 - Duration::days(366), None));
        assert_eq!(plan.iter().count(), DataClass::ALL.len());
    }

    proptest! {
        /// A record goes exactly when it ended before `now − period` and no hold covers it.
        #[test]
        fn expiry_matches_its_definition(
            days in 1u32..400,
            age_ms in -1_000_000i64..40_000_000_000,
            subject in proptest::option::of(0u128..4),
            held in proptest::option::of(0u128..4),
        ) {
            let mut policies = RetentionPolicies::default();
            policies.set(DataClass::Sessions, days).unwrap();
            let holds: Vec<_> = held.map(|h| hold(DataClass::Sessions, Some(user(h)))).into_iter().collect();
            let plan = plan(&policies, &holds, T0);
            let ended_at = T0 - Duration::milliseconds(age_ms);
            let subject = subject.map(user);
            let expected = ended_at < T0 - Duration::days(i64::from(days))
                && !(subject.is_some() && subject == held.map(user));
            prop_assert_eq!(plan.class(DataClass::Sessions).is_expired(ended_at, subject), expected);
        }
    }
}
