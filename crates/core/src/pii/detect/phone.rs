//! Telephone numbers: international numbers in E.164 form (ITU-T E.164 §6: a country code and
//! at most 15 digits in all), as written with spaces, dots, dashes and a Dutch-style `(0)` trunk
//! prefix, and Dutch national numbers (10 digits starting with 0, area codes 01–07 and mobile
//! 06), as numbered by the Nummerplan of the Dutch Telecommunications Act.

use super::{Candidate, digits, pattern, space_groups};
use crate::pii::context::{self, REFERENCE_WORDS};
use crate::pii::{Confidence, PiiKind};
use std::ops::Range;
use std::sync::LazyLock;

static INTERNATIONAL: LazyLock<regex::Regex> =
    LazyLock::new(|| pattern(r"\+[1-9](?:[ .-]?\(0\)|[ .-]?\(\d{1,4}\)|[ .-]?\d){7,16}"));

/// The country, check digits and bank code of a grouped IBAN (`NL91 ABNA `): the digits after
/// them are an account number, not a phone number.
static IBAN_HEAD: LazyLock<regex::Regex> =
    LazyLock::new(|| pattern(r"[A-Z]{2}[0-9]{2} ?[A-Z]{4} ?$"));

static NATIONAL: LazyLock<regex::Regex> =
    LazyLock::new(|| pattern(r"\(0\d{1,3}\)[ -]?\d(?:[ .-]?\d){4,7}|0[1-9](?:[ .-]?\d){8}"));

const KEYWORDS: &[&str] = &[
    "tel",
    "phone",
    "telefoon",
    "mobiel",
    "mobile",
    "gsm",
    "bel ",
    "call",
    "whatsapp",
    "fax",
    "contact",
    "bereikbaar",
    "reach",
];

pub(super) fn detect(text: &str, found: &mut Vec<Candidate>) {
    for m in INTERNATIONAL.find_iter(text) {
        let best = space_groups(text, &m.range())
            .into_iter()
            .filter(|span| span.start == m.start())
            .find(|span| international_ok(&text[span.clone()]) && context::standalone(text, span));
        if let Some(span) = best {
            push(text, span, found);
        }
    }
    for m in NATIONAL.find_iter(text) {
        let national = digits(m.as_str());
        let area_ok = national.len() == 10 && (1..=7).contains(&national[1]);
        let after_iban_head = IBAN_HEAD.is_match(context::window_before(text, m.start(), 0));
        if area_ok && !after_iban_head && context::standalone(text, &m.range()) {
            push(text, m.range(), found);
        }
    }
}

fn push(text: &str, span: Range<usize>, found: &mut Vec<Candidate>) {
    let before = context::window_before(text, span.start, 0);
    let confidence = if context::has_keyword(before, KEYWORDS) {
        Confidence(0.95)
    } else if context::has_keyword(before, REFERENCE_WORDS) {
        Confidence(0.3)
    } else {
        Confidence(0.85)
    };
    found.push(Candidate::new(PiiKind::Phone, span, confidence));
}

/// Whether an international candidate has a plausible length for its country code: the
/// national significant number lengths of the countries seen most here, E.164's 8–15 digits
/// for the rest.
fn international_ok(candidate: &str) -> bool {
    let without_trunk = candidate.replace("(0)", "");
    let all = digits(&without_trunk);
    let n = all.len();
    if !(8..=15).contains(&n) {
        return false;
    }
    let starts = |prefix: &[u8]| all.starts_with(prefix);
    if starts(&[3, 1]) {
        n == 11 && all[2] != 0
    } else if starts(&[4, 4]) {
        (11..=12).contains(&n) && all[2] != 0
    } else if starts(&[3, 2]) {
        (10..=11).contains(&n)
    } else if starts(&[4, 9]) {
        (10..=15).contains(&n)
    } else if starts(&[3, 3]) || starts(&[1]) {
        n == 11
    } else {
        true
    }
}

#[cfg(test)]
mod tests {
    use crate::pii::PiiKind;
    use crate::pii::detect::tests::texts;

    #[test]
    fn finds_international_and_dutch_numbers() {
        let text = "Bel +31612345678, +44 20 7946 0958, +31 (0)6 1234 5678 of +1 (555) 123-4567. \
                    Thuis: 06-12345678, 06 1234 5678, 020-1234567, (020) 123 4567, 0612345678.";
        assert_eq!(
            texts(text, PiiKind::Phone),
            [
                "+31612345678",
                "+44 20 7946 0958",
                "+31 (0)6 1234 5678",
                "+1 (555) 123-4567",
                "06-12345678",
                "06 1234 5678",
                "020-1234567",
                "(020) 123 4567",
                "0612345678"
            ]
        );
    }

    #[test]
    fn trims_a_neighbouring_number() {
        assert_eq!(
            texts("+31 6 1234 5678 2024", PiiKind::Phone),
            ["+31 6 1234 5678"]
        );
    }

    #[test]
    fn skips_look_alikes() {
        for text in [
            "INV-0612345678",
            "build 1.0612345678",
            "0800-1234567",
            "0900 123 4567",
            "0012345678",
            "+31 6 1234",
            "+31 6 1234 56789",
            "2024-03-14 10:22:01",
            "1700000000",
            "06123456789",
            "NL90 INGB 0140 3602 31",
        ] {
            assert!(texts(text, PiiKind::Phone).is_empty(), "{text}");
        }
    }
}
