//! Brute-force defence as pure functions: when to lock an account and when to block an address.
//!
//! Two independent rules, following OWASP's Authentication Cheat Sheet ("Account Lockout") and
//! NIST SP 800-63B §5.2.2 (rate limiting):
//!
//! * **Account lock** — after [`LockoutPolicy::max_failures`] failed sign-ins within
//!   [`LockoutPolicy::window`], the account is locked for an exponentially growing period:
//!   `base_lock · 2^previous_locks`, capped at `max_lock`. Exponential backoff makes online
//!   guessing useless while a legitimate user who mistypes is back within minutes.
//! * **IP block** — an address that fails at least [`LockoutPolicy::ip_max_failures`] times within
//!   the window, across at least [`LockoutPolicy::ip_min_accounts`] distinct usernames, is doing
//!   credential stuffing or password spraying and is blocked for [`LockoutPolicy::ip_block`]. The
//!   distinct-account condition keeps one user behind a shared NAT from blocking the office.
//!
//! The store counts failures; these functions only decide. Every function is total: for any field
//! values (including nonsensical ones) it answers without panicking; [`LockoutPolicy::check`]
//! lets a configuration loader refuse nonsensical values up front instead.

use time::{Duration, OffsetDateTime, PrimitiveDateTime};

/// Why a [`LockoutPolicy`] is refused by [`LockoutPolicy::check`] (an operator's configuration
/// mistake).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LockoutPolicyError {
    /// A failure threshold is zero, which would lock or block before any failure.
    #[error("lockout threshold `{field}` must be at least 1")]
    ZeroThreshold {
        /// The offending field.
        field: &'static str,
    },
    /// A duration is zero or negative, which would silently disable that rule.
    #[error("lockout duration `{field}` must be positive")]
    NonPositiveDuration {
        /// The offending field.
        field: &'static str,
    },
    /// `max_lock` is shorter than `base_lock`, so the cap would shorten even the first lock.
    #[error("`max_lock` must be at least `base_lock`")]
    CapBelowBase,
}

/// Thresholds and durations for account locks and IP blocks. [`Default`] is the recommended
/// setting; fields are public so configuration can override single values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LockoutPolicy {
    /// Failed sign-ins within [`Self::window`] that lock an account (default 5).
    pub max_failures: u32,
    /// How far back failures count (default 15 minutes).
    pub window: Duration,
    /// The first lock's length (default 5 minutes); each further lock doubles it.
    pub base_lock: Duration,
    /// The longest lock (default 24 hours).
    pub max_lock: Duration,
    /// Failed sign-ins from one address within the window that may block it (default 20).
    pub ip_max_failures: u32,
    /// Distinct usernames those failures must span (default 5).
    pub ip_min_accounts: u32,
    /// How long an address stays blocked (default 1 hour).
    pub ip_block: Duration,
}

impl Default for LockoutPolicy {
    fn default() -> Self {
        Self {
            max_failures: 5,
            window: Duration::minutes(15),
            base_lock: Duration::minutes(5),
            max_lock: Duration::hours(24),
            ip_max_failures: 20,
            ip_min_accounts: 5,
            ip_block: Duration::hours(1),
        }
    }
}

impl LockoutPolicy {
    /// Refuses settings that make no sense (zero thresholds, non-positive durations, a cap below
    /// the base). The decision functions still behave sensibly on such values (see each one), but a
    /// configuration loader should surface the mistake rather than run with it.
    pub fn check(&self) -> Result<(), LockoutPolicyError> {
        for (field, value) in [
            ("max_failures", self.max_failures),
            ("ip_max_failures", self.ip_max_failures),
            ("ip_min_accounts", self.ip_min_accounts),
        ] {
            if value == 0 {
                return Err(LockoutPolicyError::ZeroThreshold { field });
            }
        }
        for (field, value) in [
            ("window", self.window),
            ("base_lock", self.base_lock),
            ("max_lock", self.max_lock),
            ("ip_block", self.ip_block),
        ] {
            if !value.is_positive() {
                return Err(LockoutPolicyError::NonPositiveDuration { field });
            }
        }
        if self.max_lock < self.base_lock {
            return Err(LockoutPolicyError::CapBelowBase);
        }
        Ok(())
    }

    /// The earliest failure that still counts at `now`: `now - window` (a negative window counts
    /// as zero).
    #[must_use]
    pub fn window_start(&self, now: OffsetDateTime) -> OffsetDateTime {
        now.checked_sub(non_negative(self.window))
            .unwrap_or_else(beginning_of_time)
    }

    /// The length of the next lock after `previous_locks` earlier ones:
    /// `base_lock · 2^previous_locks`, capped at `max_lock`.
    ///
    /// Never decreases as `previous_locks` grows and never exceeds `max_lock`. Negative durations
    /// count as zero; if `max_lock < base_lock`, the cap wins.
    #[must_use]
    pub fn lock_duration(&self, previous_locks: u32) -> Duration {
        let cap = non_negative(self.max_lock);
        let mut duration = non_negative(self.base_lock).min(cap);
        if duration.is_zero() {
            return duration;
        }
        // Doubling reaches the cap after at most ~90 steps (1 ns to `Duration::MAX`), so the loop
        // is short whatever `previous_locks` is.
        for _ in 0..previous_locks {
            if duration >= cap {
                break;
            }
            duration = duration.saturating_mul(2);
        }
        duration.min(cap)
    }

    /// Whether a failed sign-in locks the account, and until when.
    ///
    /// Call after recording the failure, with `failures_in_window` counted since
    /// [`Self::window_start`] (including this one) and `previous_locks` the account's lock count
    /// so far. Locks when `failures_in_window >= max_failures` (a threshold of 0 counts as 1);
    /// `None` also when the lock would have zero length.
    #[must_use]
    pub fn account_lock(
        &self,
        failures_in_window: u32,
        previous_locks: u32,
        now: OffsetDateTime,
    ) -> Option<OffsetDateTime> {
        if failures_in_window < self.max_failures.max(1) {
            return None;
        }
        until(now, self.lock_duration(previous_locks))
    }

    /// Whether an address's failures block it, and until when.
    ///
    /// Blocks when `failures_in_window >= ip_max_failures` and `distinct_accounts >=
    /// ip_min_accounts` (thresholds of 0 count as 1); `None` also when `ip_block` is not
    /// positive.
    #[must_use]
    pub fn ip_block(
        &self,
        failures_in_window: u32,
        distinct_accounts: u32,
        now: OffsetDateTime,
    ) -> Option<OffsetDateTime> {
        if failures_in_window < self.ip_max_failures.max(1)
            || distinct_accounts < self.ip_min_accounts.max(1)
        {
            return None;
        }
        until(now, non_negative(self.ip_block))
    }
}

fn non_negative(duration: Duration) -> Duration {
    duration.max(Duration::ZERO)
}

/// `now + duration`, saturating at the end of representable time; `None` for a zero duration.
fn until(now: OffsetDateTime, duration: Duration) -> Option<OffsetDateTime> {
    if !duration.is_positive() {
        return None;
    }
    Some(now.checked_add(duration).unwrap_or_else(end_of_time))
}

fn beginning_of_time() -> OffsetDateTime {
    PrimitiveDateTime::MIN.assume_utc()
}

fn end_of_time() -> OffsetDateTime {
    PrimitiveDateTime::MAX.assume_utc()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn now() -> OffsetDateTime {
        OffsetDateTime::UNIX_EPOCH + Duration::days(20_000)
    }

    #[test]
    fn default_policy_is_valid_and_as_documented() {
        let policy = LockoutPolicy::default();
        assert_eq!(policy.check(), Ok(()));
        assert_eq!(policy.max_failures, 5);
        assert_eq!(policy.window, Duration::minutes(15));
        assert_eq!(policy.window_start(now()), now() - Duration::minutes(15));
    }

    #[test]
    fn account_locks_at_the_threshold_with_doubling_durations() {
        let policy = LockoutPolicy::default();
        assert_eq!(policy.account_lock(4, 0, now()), None);
        assert_eq!(
            policy.account_lock(5, 0, now()),
            Some(now() + Duration::minutes(5))
        );
        assert_eq!(
            policy.account_lock(9, 0, now()),
            Some(now() + Duration::minutes(5))
        );
        assert_eq!(
            policy.account_lock(5, 1, now()),
            Some(now() + Duration::minutes(10))
        );
        assert_eq!(
            policy.account_lock(5, 3, now()),
            Some(now() + Duration::minutes(40))
        );
        // 5 min · 2^8 = 21 h 20 min, 2^9 would be 42 h 40 min: capped at 24 h.
        assert_eq!(policy.lock_duration(8), Duration::minutes(5 * 256));
        assert_eq!(policy.lock_duration(9), Duration::hours(24));
        assert_eq!(policy.lock_duration(u32::MAX), Duration::hours(24));
    }

    #[test]
    fn ip_blocks_need_both_many_failures_and_many_accounts() {
        let policy = LockoutPolicy::default();
        let blocked = Some(now() + Duration::hours(1));
        assert_eq!(policy.ip_block(19, 19, now()), None);
        assert_eq!(
            policy.ip_block(100, 4, now()),
            None,
            "one user behind a NAT"
        );
        assert_eq!(policy.ip_block(20, 5, now()), blocked);
        assert_eq!(policy.ip_block(500, 80, now()), blocked);
    }

    #[test]
    fn check_refuses_nonsense() {
        let base = LockoutPolicy::default();
        assert_eq!(
            LockoutPolicy {
                max_failures: 0,
                ..base
            }
            .check(),
            Err(LockoutPolicyError::ZeroThreshold {
                field: "max_failures"
            })
        );
        assert_eq!(
            LockoutPolicy {
                ip_min_accounts: 0,
                ..base
            }
            .check(),
            Err(LockoutPolicyError::ZeroThreshold {
                field: "ip_min_accounts"
            })
        );
        assert_eq!(
            LockoutPolicy {
                window: Duration::ZERO,
                ..base
            }
            .check(),
            Err(LockoutPolicyError::NonPositiveDuration { field: "window" })
        );
        assert_eq!(
            LockoutPolicy {
                ip_block: Duration::seconds(-1),
                ..base
            }
            .check(),
            Err(LockoutPolicyError::NonPositiveDuration { field: "ip_block" })
        );
        assert_eq!(
            LockoutPolicy {
                max_lock: Duration::minutes(1),
                ..base
            }
            .check(),
            Err(LockoutPolicyError::CapBelowBase)
        );
    }

    #[test]
    fn nonsense_values_still_give_sensible_answers() {
        let zero = LockoutPolicy {
            max_failures: 0,
            base_lock: Duration::ZERO,
            ip_block: Duration::minutes(-5),
            window: Duration::minutes(-5),
            ..LockoutPolicy::default()
        };
        assert_eq!(zero.account_lock(0, 0, now()), None, "no failure, no lock");
        assert_eq!(
            zero.account_lock(1, 0, now()),
            None,
            "a zero-length lock is no lock"
        );
        assert_eq!(zero.lock_duration(u32::MAX), Duration::ZERO);
        assert_eq!(zero.ip_block(1_000, 1_000, now()), None);
        assert_eq!(zero.window_start(now()), now());

        let inverted = LockoutPolicy {
            max_lock: Duration::minutes(1),
            ..LockoutPolicy::default()
        };
        assert_eq!(inverted.lock_duration(0), Duration::minutes(1));

        let huge = LockoutPolicy {
            window: Duration::MAX,
            max_lock: Duration::MAX,
            ..zero
        };
        assert_eq!(
            huge.window_start(now()),
            PrimitiveDateTime::MIN.assume_utc()
        );
        let forever = LockoutPolicy {
            base_lock: Duration::MAX,
            ..huge
        };
        assert_eq!(
            forever.account_lock(1, 0, now()),
            Some(PrimitiveDateTime::MAX.assume_utc())
        );
    }

    fn any_duration() -> impl Strategy<Value = Duration> {
        prop_oneof![
            (-10_000i64..100_000_000).prop_map(Duration::seconds),
            Just(Duration::ZERO),
            Just(Duration::MAX),
            Just(Duration::MIN),
        ]
    }

    fn any_policy() -> impl Strategy<Value = LockoutPolicy> {
        (
            0u32..50,
            any_duration(),
            any_duration(),
            any_duration(),
            0u32..50,
            0u32..50,
            any_duration(),
        )
            .prop_map(
                |(
                    max_failures,
                    window,
                    base_lock,
                    max_lock,
                    ip_max_failures,
                    ip_min_accounts,
                    ip_block,
                )| {
                    LockoutPolicy {
                        max_failures,
                        window,
                        base_lock,
                        max_lock,
                        ip_max_failures,
                        ip_min_accounts,
                        ip_block,
                    }
                },
            )
    }

    proptest! {
        #[test]
        fn lock_duration_is_monotone_and_capped(policy in any_policy(), locks in any::<u32>(), more in any::<u32>()) {
            let this = policy.lock_duration(locks);
            let next = policy.lock_duration(locks.saturating_add(more));
            prop_assert!(this <= next);
            prop_assert!(next <= policy.max_lock.max(Duration::ZERO));
            prop_assert!(this >= Duration::ZERO);
        }

        #[test]
        fn lock_duration_doubles_until_the_cap(minutes in 1i64..60, locks in 0u32..20) {
            let policy = LockoutPolicy { base_lock: Duration::minutes(minutes), ..LockoutPolicy::default() };
            let uncapped = Duration::minutes(minutes) * 2i32.pow(locks);
            prop_assert_eq!(policy.lock_duration(locks), uncapped.min(policy.max_lock));
        }

        #[test]
        fn account_lock_starts_exactly_at_the_threshold(
            policy in any_policy(),
            failures in 0u32..100,
            locks in 0u32..100,
        ) {
            let lock = policy.account_lock(failures, locks, now());
            if failures < policy.max_failures.max(1) {
                prop_assert_eq!(lock, None);
            } else if policy.lock_duration(locks).is_positive() {
                let until = lock.unwrap();
                prop_assert!(until > now());
                let cap = now().checked_add(policy.max_lock.max(Duration::ZERO));
                prop_assert!(cap.is_none_or(|cap| until <= cap));
            } else {
                prop_assert_eq!(lock, None);
            }
        }

        #[test]
        fn more_failures_never_lift_a_lock_or_block(
            policy in any_policy(),
            failures in 0u32..100,
            accounts in 0u32..100,
            extra in 0u32..100,
        ) {
            if policy.account_lock(failures, 0, now()).is_some() {
                prop_assert!(policy.account_lock(failures + extra, 0, now()).is_some());
            }
            if policy.ip_block(failures, accounts, now()).is_some() {
                prop_assert!(policy.ip_block(failures + extra, accounts + extra, now()).is_some());
            }
        }

        #[test]
        fn window_start_is_never_after_now(policy in any_policy()) {
            prop_assert!(policy.window_start(now()) <= now());
        }
    }
}
