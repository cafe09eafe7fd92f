//! Detection and masking of personal data (PII) in free text, JSON and CSV, for the
//! data-protection side of the key vault: classifying free-text fields, keeping personal data
//! out of logs and exports, and finding it in files an operator is about to share.
//!
//! Candidates are found with compiled-once regular expressions (the `regex` crate runs in time
//! linear in its input, so no pattern can backtrack catastrophically) and then validated in code:
//! the ISO 13616 mod-97 check and per-country length for IBANs, the Luhn check and known issuer
//! ranges for payment cards, the Dutch "elfproef" for BSNs, std's own parsers for IP addresses,
//! the calendar for dates. A number that fails its checksum is not reported at all.
//!
//! Every [`Finding`] carries a [`Confidence`]: how sure the detector is that the text is personal
//! data of its kind. Context moves it: a valid BSN next to "BSN" or "burgerservicenummer" is
//! near certain, one next to "factuur" is probably an invoice number; a date is a date of birth
//! only with a keyword such as "geboren" or "date of birth" nearby. Callers that report or mask
//! pick a floor, by default [`Confidence::REPORT`].
//!
//! The matched text is personal data itself: it never appears in the `Debug` output of a
//! [`Finding`] or in any error, only through [`Finding::value`].

mod context;
mod detect;
mod mask;
mod scan;
pub mod structured;

pub use mask::{Redacted, mask, mask_except, mask_with};
pub use scan::{Classification, classify, scan_text};
pub use structured::{Field, FieldFinding, StructuredError};

use std::fmt;
use std::ops::Range;

/// A kind of personal data the scanner recognises.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum PiiKind {
    /// An e-mail address (RFC 5322 `addr-spec`, dot-atom form, with a DNS domain).
    Email,
    /// A telephone number: E.164 (`+31612345678`, `+44 20 7946 0958`) or a Dutch national
    /// number (`06-12345678`, `(020) 123 4567`).
    Phone,
    /// An International Bank Account Number (ISO 13616) that passes its mod-97 check.
    Iban,
    /// A payment card number (ISO/IEC 7812) from a known issuer range that passes the Luhn check.
    PaymentCard,
    /// A Dutch citizen service number (burgerservicenummer) that passes the elfproef.
    Bsn,
    /// An IPv4 or IPv6 address (RFC 791, RFC 4291), personal data under GDPR recital 30.
    IpAddress,
    /// A date that is, or may be, someone's date of birth.
    DateOfBirth,
    /// A postal address or part of one: a street and house number, a Dutch or UK postcode, a
    /// US city, state and ZIP code.
    PostalAddress,
}

impl PiiKind {
    /// Every kind, in the order detectors run.
    pub const ALL: [PiiKind; 8] = [
        PiiKind::Email,
        PiiKind::Phone,
        PiiKind::Iban,
        PiiKind::PaymentCard,
        PiiKind::Bsn,
        PiiKind::IpAddress,
        PiiKind::DateOfBirth,
        PiiKind::PostalAddress,
    ];

    /// The stable, kebab-case name used in reports and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            PiiKind::Email => "email",
            PiiKind::Phone => "phone",
            PiiKind::Iban => "iban",
            PiiKind::PaymentCard => "payment-card",
            PiiKind::Bsn => "bsn",
            PiiKind::IpAddress => "ip-address",
            PiiKind::DateOfBirth => "date-of-birth",
            PiiKind::PostalAddress => "postal-address",
        }
    }

    /// Which kind wins when two findings overlap: checksum-backed kinds first, then the kinds
    /// whose format is hard to hit by chance, then the fuzzy ones.
    pub(crate) fn precedence(self) -> u8 {
        match self {
            PiiKind::Iban => 8,
            PiiKind::PaymentCard => 7,
            PiiKind::Email => 6,
            PiiKind::IpAddress => 5,
            PiiKind::Phone => 4,
            PiiKind::Bsn => 3,
            PiiKind::DateOfBirth => 2,
            PiiKind::PostalAddress => 1,
        }
    }
}

impl fmt::Display for PiiKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A name that is not one of [`PiiKind`]'s.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown kind of personal data `{0}` (expected one of email, phone, iban, payment-card, bsn, ip-address, date-of-birth, postal-address)"
)]
pub struct UnknownKind(pub String);

impl std::str::FromStr for PiiKind {
    type Err = UnknownKind;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        PiiKind::ALL
            .into_iter()
            .find(|kind| kind.as_str() == name)
            .ok_or_else(|| UnknownKind(name.to_owned()))
    }
}

/// How sure a detector is, from 0 (a guess) to 1 (certain).
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub struct Confidence(f32);

impl Confidence {
    /// A shape alone, without a checksum or context: a bare date, a bare Dutch postcode.
    pub const LOW: Confidence = Confidence(0.3);
    /// The default floor for reporting and masking: findings below it are kept for
    /// classification and callers that ask, but not reported.
    pub const REPORT: Confidence = Confidence(0.5);
    /// A format that is rarely anything else, or a checksum without context.
    pub const MEDIUM: Confidence = Confidence(0.6);
    /// A validated format with little room for doubt.
    pub const HIGH: Confidence = Confidence(0.9);
    /// A checksum or a format that is practically never anything else.
    pub const CERTAIN: Confidence = Confidence(0.99);

    /// A confidence of `value`, or `None` if it is not a number between 0 and 1.
    pub fn new(value: f32) -> Option<Self> {
        (0.0..=1.0).contains(&value).then_some(Confidence(value))
    }

    /// The value between 0 and 1.
    pub fn get(self) -> f32 {
        self.0
    }

    /// The higher of the two.
    pub fn max(self, other: Confidence) -> Confidence {
        if other.0 > self.0 { other } else { self }
    }
}

impl fmt::Display for Confidence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:.2}", self.0)
    }
}

/// One piece of personal data found in a text.
///
/// `Debug` shows where and what kind, never the text itself; [`Finding::value`] gives the text
/// to a caller that asks for it explicitly.
#[derive(Clone, PartialEq)]
pub struct Finding {
    /// What kind of personal data.
    pub kind: PiiKind,
    /// Byte offsets into the scanned text; always on `char` boundaries.
    pub span: Range<usize>,
    /// 1-based line of the first byte.
    pub line: usize,
    /// 1-based column of the first byte, counted in `char`s from the start of its line.
    pub column: usize,
    /// How sure the detector is.
    pub confidence: Confidence,
    value: String,
}

impl Finding {
    /// The matched text: personal data. Show it only where the reader may see it.
    pub fn value(&self) -> &str {
        &self.value
    }

    /// The kind-specific mask of the matched text (see [`mask`]): what may be shown instead.
    pub fn masked(&self) -> String {
        mask::mask_value(self.kind, &self.value)
    }
}

impl fmt::Debug for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Finding")
            .field("kind", &self.kind)
            .field("span", &self.span)
            .field("line", &self.line)
            .field("column", &self.column)
            .field("confidence", &self.confidence)
            .field("value", &"<redacted>")
            .finish()
    }
}
