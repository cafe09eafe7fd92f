//! Security-key PINs: a secret newtype and the organisation's PIN policy.

use std::fmt;

use secrecy::{ExposeSecret, SecretString};

use super::KeyError;

/// The longest PIN CTAP allows, in UTF-8 bytes (CTAP 2.1 §6.5.5.5: 63 bytes before padding).
pub const MAX_PIN_BYTES: usize = 63;

/// A security-key PIN. Parsed once: not empty, no NUL, at most [`MAX_PIN_BYTES`]. Its `Debug`
/// is redacted and the memory is wiped on drop.
#[derive(Clone)]
pub struct Pin(SecretString);

impl Pin {
    /// Parses a PIN as the user typed it.
    pub fn new(pin: impl Into<String>) -> Result<Self, KeyError> {
        let pin: String = pin.into();
        let secret = SecretString::from(pin);
        let text = secret.expose_secret();
        if text.is_empty() || text.contains('\0') {
            return Err(KeyError::PinRejected);
        }
        if text.len() > MAX_PIN_BYTES {
            return Err(KeyError::PinTooLong { max: MAX_PIN_BYTES });
        }
        Ok(Self(secret))
    }

    /// The PIN's length in Unicode code points, the unit CTAP's minimum length counts in.
    pub fn length(&self) -> usize {
        self.0.expose_secret().chars().count()
    }

    pub(crate) fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

impl fmt::Debug for Pin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Pin(<redacted>)")
    }
}

/// The organisation's rule for new PINs, applied on top of the key's own minimum.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PinPolicy {
    /// Minimum length in Unicode code points.
    pub min_length: usize,
}

impl Default for PinPolicy {
    /// CTAP's default minimum: 4 code points (CTAP 2.1 §6.4 minPINLength).
    fn default() -> Self {
        Self { min_length: 4 }
    }
}

impl PinPolicy {
    /// Checks a new PIN against this policy and the key's `minPINLength`.
    pub fn check(&self, pin: &Pin, key_min_length: usize) -> Result<(), KeyError> {
        let min = self.min_length.max(key_min_length);
        if pin.length() < min {
            return Err(KeyError::PinTooShort { min });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_redacts() {
        let pin = Pin::new("123456").unwrap();
        assert_eq!(format!("{pin:?}"), "Pin(<redacted>)");
        assert_eq!(pin.length(), 6);
        assert_eq!(Pin::new("").err(), Some(KeyError::PinRejected));
        assert_eq!(Pin::new("12\u{0}3").err(), Some(KeyError::PinRejected));
        assert_eq!(
            Pin::new("x".repeat(64)).err(),
            Some(KeyError::PinTooLong { max: 63 })
        );
    }

    #[test]
    fn policy_takes_the_stricter_minimum() {
        let policy = PinPolicy { min_length: 6 };
        let pin = Pin::new("12345").unwrap();
        assert_eq!(policy.check(&pin, 4), Err(KeyError::PinTooShort { min: 6 }));
        assert_eq!(
            PinPolicy::default().check(&pin, 8),
            Err(KeyError::PinTooShort { min: 8 })
        );
        assert_eq!(PinPolicy::default().check(&pin, 4), Ok(()));
        // Code points, not bytes: four two-byte characters are a four-character PIN.
        assert_eq!(
            policy.check(&Pin::new("éééé").unwrap(), 4),
            Err(KeyError::PinTooShort { min: 6 })
        );
    }
}
