//! Dutch citizen service numbers (burgerservicenummer, BSN; formerly sofinummer): nine digits,
//! written compact or as `1234.56.782` / `123 456 782`, that pass the elfproef of the Wet
//! algemene bepalingen burgerservicenummer: 9·d1 + 8·d2 + … + 2·d8 − 1·d9 is a multiple of 11.
//!
//! About one nine-digit number in eleven passes the elfproef by chance, so context decides most
//! of the confidence: a BSN keyword nearby makes it near certain, an order or invoice word makes
//! it unlikely.

use super::{Candidate, digits, pattern};
use crate::pii::context::{self, REFERENCE_WORDS};
use crate::pii::{Confidence, PiiKind};
use std::sync::LazyLock;

static BSN: LazyLock<regex::Regex> = LazyLock::new(|| {
    pattern(
        r"[0-9]{4}\.[0-9]{2}\.[0-9]{3}|[0-9]{3} [0-9]{3} [0-9]{3}|[0-9]{3}\.[0-9]{3}\.[0-9]{3}|[0-9]{9}",
    )
});

const KEYWORDS: &[&str] = &[
    "bsn",
    "burgerservicenummer",
    "burgerservice",
    "sofinummer",
    "sofi-nummer",
    "sofi nummer",
    "sofi$",
    "citizen service number",
    "persoonsnummer",
];

pub(super) fn detect(text: &str, found: &mut Vec<Candidate>) {
    for m in BSN.find_iter(text) {
        let candidate = m.as_str();
        if !context::standalone(text, &m.range()) || !elfproef(&digits(candidate)) {
            continue;
        }
        let before = context::window_before(text, m.start(), 0);
        let confidence = if context::has_keyword(before, KEYWORDS) {
            Confidence(0.97)
        } else if context::has_keyword(before, REFERENCE_WORDS) {
            Confidence(0.2)
        } else {
            Confidence(0.6)
        };
        found.push(Candidate::new(PiiKind::Bsn, m.range(), confidence));
    }
}

/// The elfproef for a BSN: nine digits, weights 9 … 2 and −1, sum a positive multiple of 11.
pub(crate) fn elfproef(number: &[u8]) -> bool {
    if number.len() != 9 {
        return false;
    }
    let sum: i32 = number
        .iter()
        .zip([9, 8, 7, 6, 5, 4, 3, 2, -1])
        .map(|(&d, weight)| i32::from(d) * weight)
        .sum();
    sum > 0 && sum % 11 == 0
}

#[cfg(test)]
mod tests {
    use super::{digits, elfproef};
    use crate::pii::PiiKind;
    use crate::pii::detect::tests::{found, texts};

    #[test]
    fn elfproef_known_answers() {
        // 111222333 is the example the Dutch government uses in its own documentation;
        // 123456782 is the one every test suite uses.
        assert!(elfproef(&digits("111222333")));
        assert!(elfproef(&digits("123456782")));
        assert!(!elfproef(&digits("123456789")));
        assert!(!elfproef(&digits("000000000")));
        assert!(!elfproef(&digits("12345678")));
    }

    #[test]
    fn context_moves_confidence() {
        assert_eq!(found("BSN: 123456782", PiiKind::Bsn)[0].1, 0.97);
        assert_eq!(
            found("burgerservicenummer 1234.56.782", PiiKind::Bsn)[0].1,
            0.97
        );
        assert_eq!(found("nummer 123 456 782", PiiKind::Bsn)[0].1, 0.6);
        assert_eq!(found("Factuur 123456782", PiiKind::Bsn)[0].1, 0.2);
    }

    #[test]
    fn rejects_invalid_and_glued_numbers() {
        for text in [
            "BSN 123456789",
            "BSN 1234567820",
            "INV-123456782",
            "1.123456782",
            "123 456.782",
            "ab123456782",
        ] {
            assert!(texts(text, PiiKind::Bsn).is_empty(), "{text}");
        }
    }
}
