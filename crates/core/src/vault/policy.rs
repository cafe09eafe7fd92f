//! When a vault's KEK must rotate, and when an unlocked vault locks itself again.

use time::{Duration, OffsetDateTime};

/// NIST SP 800-38D §8.3: with random 96-bit nonces, one AES-GCM key may encrypt at most 2^32
/// messages. Every DEK wrap (a new item, a re-wrap) is one such message under the KEK, so a KEK
/// version is rotated well before: at half the bound. (A DEK encrypts exactly one message, its
/// item, so its own bound is never approached.)
pub const MAX_WRAPS_PER_KEK: u64 = 1 << 31;

/// How often a vault's KEK rotates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RotationPolicy {
    /// The longest a KEK version stays current (its cryptoperiod, NIST SP 800-57 Part 1 §5.3).
    pub interval: Duration,
}

impl Default for RotationPolicy {
    /// Every 90 days.
    fn default() -> Self {
        Self {
            interval: Duration::days(90),
        }
    }
}

/// Why a rotation is due.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RotationDue {
    /// The current KEK is older than the policy's interval.
    Age,
    /// The current KEK has wrapped [`MAX_WRAPS_PER_KEK`] data keys.
    Usage,
}

impl RotationPolicy {
    /// Whether the current KEK, made at `current_since` and used for `wraps` wraps, must rotate
    /// at `now`.
    pub fn due(
        &self,
        current_since: OffsetDateTime,
        wraps: u64,
        now: OffsetDateTime,
    ) -> Option<RotationDue> {
        if wraps >= MAX_WRAPS_PER_KEK {
            Some(RotationDue::Usage)
        } else if now - current_since >= self.interval {
            Some(RotationDue::Age)
        } else {
            None
        }
    }
}

/// Locks an unlocked vault after a time without use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IdleLock {
    timeout: Duration,
    last_use: OffsetDateTime,
}

impl IdleLock {
    /// Five minutes, the default for an unattended admin desktop.
    pub const DEFAULT_TIMEOUT: Duration = Duration::minutes(5);

    /// A vault unlocked at `now` that locks after `timeout` without use.
    pub fn new(timeout: Duration, now: OffsetDateTime) -> Self {
        Self {
            timeout,
            last_use: now,
        }
    }

    /// Records a use at `now` (only ever moves forward).
    pub fn touch(&mut self, now: OffsetDateTime) {
        self.last_use = self.last_use.max(now);
    }

    /// Whether the vault must lock at `now`.
    pub fn expired(&self, now: OffsetDateTime) -> bool {
        now - self.last_use >= self.timeout
    }

    /// Time left before it locks, at `now`.
    pub fn remaining(&self, now: OffsetDateTime) -> Duration {
        (self.timeout - (now - self.last_use)).max(Duration::ZERO)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(days: i64) -> OffsetDateTime {
        OffsetDateTime::UNIX_EPOCH + Duration::days(20_000 + days)
    }

    #[test]
    fn rotation_is_due_by_age_or_by_usage() {
        let policy = RotationPolicy::default();
        assert_eq!(policy.due(at(0), 10, at(89)), None);
        assert_eq!(policy.due(at(0), 10, at(90)), Some(RotationDue::Age));
        assert_eq!(
            policy.due(at(0), MAX_WRAPS_PER_KEK, at(1)),
            Some(RotationDue::Usage)
        );
    }

    #[test]
    fn an_idle_vault_locks_and_use_keeps_it_open() {
        let mut lock = IdleLock::new(Duration::minutes(5), at(0));
        assert!(!lock.expired(at(0) + Duration::minutes(4)));
        lock.touch(at(0) + Duration::minutes(4));
        assert!(!lock.expired(at(0) + Duration::minutes(8)));
        assert_eq!(
            lock.remaining(at(0) + Duration::minutes(8)),
            Duration::minutes(1)
        );
        assert!(lock.expired(at(0) + Duration::minutes(9)));
        assert_eq!(lock.remaining(at(1)), Duration::ZERO);
        // A clock stepping back does not extend the deadline past the last real use.
        lock.touch(at(-1));
        assert!(lock.expired(at(0) + Duration::minutes(9)));
    }
}
