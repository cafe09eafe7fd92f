//! Postal addresses in the forms Dutch and English text uses, found as parts and then joined:
//! a street and house number (`Kerkstraat 12a`, `12 Main Street`), a Dutch postcode (`1234 AB`,
//! PostNL's format: four digits not starting with 0, two letters other than SA, SD and SS) with
//! or without its city, a UK postcode (`SW1A 1AA`, BS 7666) and a US city, state and ZIP code
//! (`Springfield, IL 62704`, USPS Publication 28).
//!
//! Confidence follows how much of an address is there: a bare Dutch postcode could be a year and
//! a country code, a postcode with its city is likely an address, a street with house number and
//! postcode is one.

use super::{Candidate, pattern};
use crate::pii::context;
use crate::pii::{Confidence, PiiKind};
use std::ops::Range;
use std::sync::LazyLock;

const NL_STREET_SUFFIXES: &str = "straat|laan|weg|plein|gracht|kade|singel|dijk|steeg|pad|dreef|\
                                  hof|markt|park|plantsoen|baan|dam|wal|haven|veld|burgwal|allee|\
                                  erf|boulevard|promenade|kanaal|poort|ring|lei|lijn";

static NL_STREET: LazyLock<regex::Regex> = LazyLock::new(|| {
    pattern(&format!(
        r"(?:(?:[A-Z][a-zà-ÿ'.]*|van|de|der|den|het|ter|ten|aan|op)[ -]){{0,4}}[A-Z][a-zà-ÿ]*(?:{NL_STREET_SUFFIXES}) [0-9]{{1,5}}(?:(?: ?[a-zA-Z]|-[0-9]{{1,4}}| ?-?(?:hs|bis))(?-u:\b))?"
    ))
});

static EN_STREET: LazyLock<regex::Regex> = LazyLock::new(|| {
    pattern(
        r"[0-9]{1,5}[A-Za-z]? (?:[A-Z][a-z]+\.? ){1,3}(?:Street|St|Road|Rd|Avenue|Ave|Lane|Ln|Drive|Dr|Boulevard|Blvd|Way|Court|Ct|Place|Pl|Terrace|Close|Crescent|Square|Sq|Gardens|Grove|Parkway|Pkwy|Row|Highway|Hwy|Mews)(?-u:\b)\.?",
    )
});

static NL_POSTCODE: LazyLock<regex::Regex> =
    LazyLock::new(|| pattern(r"[1-9][0-9]{3} ?[A-Z]{2}(?-u:\b)"));

static NL_CITY_AFTER: LazyLock<regex::Regex> = LazyLock::new(|| {
    pattern(
        r"^ {1,2}(?:'s-[A-Z][a-zà-ÿ]+|[A-Z][a-zà-ÿ]+(?:[ -](?:aan|op|de|den|der|[A-Z][a-zà-ÿ]+)){0,3}|[A-Z]{3,}(?:[ -][A-Z]{2,}){0,2})(?-u:\b)",
    )
});

static UK_POSTCODE: LazyLock<regex::Regex> =
    LazyLock::new(|| pattern(r"[A-Z]{1,2}[0-9][A-Z0-9]? [0-9][ABD-HJLNP-UW-Z]{2}(?-u:\b)"));

static US_CITY_STATE_ZIP: LazyLock<regex::Regex> = LazyLock::new(|| {
    pattern(r"[A-Z][a-zA-Z]+(?:[ -][A-Z][a-zA-Z]+){0,2}, ([A-Z]{2}) [0-9]{5}(?:-[0-9]{4})?(?-u:\b)")
});

/// What may stand between a street and the postcode part: a comma, a line break, and a city
/// name written before a UK postcode (`10 Downing Street, London SW1A 2AA`).
static GAP: LazyLock<regex::Regex> = LazyLock::new(|| {
    pattern(
        r"^[ \t]*,?[ \t]*(?:\r?\n[ \t]*)?(?:[A-Z][a-zà-ÿ]+(?:[ -][A-Z][a-zà-ÿ]+)?[ \t]*,?[ \t]*)?$",
    )
});

/// USPS state and territory codes.
const US_STATES: &[&str] = &[
    "AL", "AK", "AZ", "AR", "CA", "CO", "CT", "DE", "DC", "FL", "GA", "HI", "ID", "IL", "IN", "IA",
    "KS", "KY", "LA", "ME", "MD", "MA", "MI", "MN", "MS", "MO", "MT", "NE", "NV", "NH", "NJ", "NM",
    "NY", "NC", "ND", "OH", "OK", "OR", "PA", "RI", "SC", "SD", "TN", "TX", "UT", "VT", "VA", "WA",
    "WV", "WI", "WY", "PR", "GU", "VI", "AS", "MP",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    Street,
    Postcode,
}

struct Component {
    part: Part,
    span: Range<usize>,
    confidence: Confidence,
}

pub(super) fn detect(text: &str, found: &mut Vec<Candidate>) {
    let mut parts: Vec<Component> = Vec::new();
    for street in [&*NL_STREET, &*EN_STREET] {
        for m in street.find_iter(text) {
            if starts_word(text, m.start()) {
                parts.push(Component {
                    part: Part::Street,
                    span: m.range(),
                    confidence: Confidence::MEDIUM,
                });
            }
        }
    }
    for m in NL_POSTCODE.find_iter(text) {
        let letters = &m.as_str()[m.len() - 2..];
        if matches!(letters, "SA" | "SD" | "SS") || !context::standalone(text, &m.range()) {
            continue;
        }
        let (span, confidence) = match NL_CITY_AFTER.find(&text[m.end()..]) {
            Some(city) => (m.start()..m.end() + city.end(), Confidence(0.75)),
            None => (m.range(), Confidence(0.4)),
        };
        parts.push(Component {
            part: Part::Postcode,
            span,
            confidence,
        });
    }
    for m in UK_POSTCODE.find_iter(text) {
        if context::standalone(text, &m.range()) {
            parts.push(Component {
                part: Part::Postcode,
                span: m.range(),
                confidence: Confidence(0.6),
            });
        }
    }
    for c in US_CITY_STATE_ZIP.captures_iter(text) {
        if let (Some(m), Some(state)) = (c.get(0), c.get(1))
            && US_STATES.contains(&state.as_str())
            && starts_word(text, m.start())
        {
            parts.push(Component {
                part: Part::Postcode,
                span: m.range(),
                confidence: Confidence(0.75),
            });
        }
    }
    parts.sort_by_key(|part| (part.span.start, std::cmp::Reverse(part.span.end)));

    let mut i = 0;
    while i < parts.len() {
        let current = &parts[i];
        let next = parts[i + 1..]
            .iter()
            .position(|p| p.span.start >= current.span.end)
            .map(|offset| i + 1 + offset);
        let joined = next.filter(|&j| {
            current.part == Part::Street
                && parts[j].part == Part::Postcode
                && parts[j].span.start - current.span.end <= 40
                && GAP.is_match(&text[current.span.end..parts[j].span.start])
        });
        match joined {
            Some(j) => {
                found.push(Candidate::new(
                    PiiKind::PostalAddress,
                    current.span.start..parts[j].span.end,
                    Confidence(0.95),
                ));
                i = j + 1;
            }
            None => {
                found.push(Candidate::new(
                    PiiKind::PostalAddress,
                    current.span.clone(),
                    current.confidence,
                ));
                i += 1;
            }
        }
        // Parts inside what was just pushed are covered by it.
        let covered = found.last().map_or(0, |c| c.span.end);
        while i < parts.len() && parts[i].span.start < covered {
            i += 1;
        }
    }
}

/// Whether `at` starts a word: the character before is not a letter, digit or `_`.
fn starts_word(text: &str, at: usize) -> bool {
    text[..at]
        .chars()
        .next_back()
        .is_none_or(|c| !(c.is_alphanumeric() || c == '_'))
}

#[cfg(test)]
mod tests {
    use crate::pii::PiiKind;
    use crate::pii::detect::tests::found;

    fn addresses(text: &str) -> Vec<(String, f32)> {
        found(text, PiiKind::PostalAddress)
    }

    #[test]
    fn joins_the_parts_of_an_address() {
        assert_eq!(
            addresses("Stuur het naar Kerkstraat 12a, 1012 AB Amsterdam graag."),
            [("Kerkstraat 12a, 1012 AB Amsterdam".to_owned(), 0.95)]
        );
        assert_eq!(
            addresses("Burgemeester de Vlugtlaan 125\n1063 BJ AMSTERDAM"),
            [(
                "Burgemeester de Vlugtlaan 125\n1063 BJ AMSTERDAM".to_owned(),
                0.95
            )]
        );
        assert_eq!(
            addresses("Ship to 12 Main Street, Springfield, IL 62704."),
            [("12 Main Street, Springfield, IL 62704".to_owned(), 0.95)]
        );
        assert_eq!(
            addresses("10 Downing Street, London SW1A 2AA"),
            [("10 Downing Street, London SW1A 2AA".to_owned(), 0.95)]
        );
    }

    #[test]
    fn confidence_follows_how_much_is_there() {
        assert_eq!(addresses("postcode 1012 AB")[0].1, 0.4);
        assert_eq!(addresses("1012AB Amsterdam")[0].1, 0.75);
        assert_eq!(addresses("woont op de Stationsweg 4")[0].1, 0.6);
        assert_eq!(addresses("221B Baker Street")[0].1, 0.6);
        assert_eq!(
            addresses("London SW1A 1AA")[0],
            ("SW1A 1AA".to_owned(), 0.6)
        );
        assert_eq!(addresses("Springfield, IL 62704")[0].1, 0.75);
    }

    #[test]
    fn skips_look_alikes() {
        for text in [
            "1234 SS Rotterdam",
            "0123 AB",
            "Springfield, XX 62704",
            "straat 12",
            "A12345 BC",
        ] {
            assert!(addresses(text).is_empty(), "{text}");
        }
    }
}
