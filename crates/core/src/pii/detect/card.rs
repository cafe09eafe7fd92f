//! Payment card numbers (ISO/IEC 7812-1): 13–19 digits, compact or grouped with spaces or
//! dashes, that pass the Luhn check (ISO/IEC 7812-1 Annex B) and start with a known issuer
//! identification number (IIN) range at a length that scheme issues.

use super::{Candidate, digits, find_each, pattern, space_groups};
use crate::pii::context;
use crate::pii::{Confidence, PiiKind};
use std::sync::LazyLock;

static CARD: LazyLock<regex::Regex> = LazyLock::new(|| pattern(r"[0-9](?:[ -]?[0-9]){12,18}"));

const KEYWORDS: &[&str] = &[
    "card",
    "kaart",
    "creditcard",
    "visa",
    "mastercard",
    "amex",
    "maestro",
    "pan$",
    "betaalpas",
];

/// A card scheme's IIN range (inclusive prefixes of equal length) and the lengths it issues.
struct Scheme {
    from: u32,
    to: u32,
    lengths: &'static [usize],
}

const fn scheme(from: u32, to: u32, lengths: &'static [usize]) -> Scheme {
    Scheme { from, to, lengths }
}

const SIXTEEN_TO_NINETEEN: &[usize] = &[16, 17, 18, 19];
const TWELVE_TO_NINETEEN: &[usize] = &[13, 14, 15, 16, 17, 18, 19];

/// The ranges of the schemes published in their acceptance guides (as collected in ISO/IEC
/// 7812's public register summaries).
const SCHEMES: &[Scheme] = &[
    // Visa
    scheme(4, 4, &[13, 16, 19]),
    // Mastercard, including the 2-series
    scheme(51, 55, &[16]),
    scheme(2221, 2720, &[16]),
    // American Express
    scheme(34, 34, &[15]),
    scheme(37, 37, &[15]),
    // Discover
    scheme(6011, 6011, SIXTEEN_TO_NINETEEN),
    scheme(644, 649, SIXTEEN_TO_NINETEEN),
    scheme(65, 65, SIXTEEN_TO_NINETEEN),
    // China UnionPay
    scheme(62, 62, SIXTEEN_TO_NINETEEN),
    // JCB
    scheme(3528, 3589, SIXTEEN_TO_NINETEEN),
    // Diners Club International
    scheme(300, 305, &[14, 16, 17, 18, 19]),
    scheme(36, 36, &[14, 16, 17, 18, 19]),
    scheme(38, 39, &[16, 17, 18, 19]),
    // Maestro
    scheme(50, 50, TWELVE_TO_NINETEEN),
    scheme(56, 58, TWELVE_TO_NINETEEN),
    scheme(6304, 6304, TWELVE_TO_NINETEEN),
    scheme(6759, 6759, TWELVE_TO_NINETEEN),
    scheme(6761, 6763, TWELVE_TO_NINETEEN),
    scheme(639, 639, TWELVE_TO_NINETEEN),
    // Mir
    scheme(2200, 2204, &[16]),
];

pub(super) fn detect(text: &str, found: &mut Vec<Candidate>) {
    find_each(&CARD, text, |m| {
        let span = space_groups(text, &m.range()).into_iter().find(|span| {
            let number = digits(&text[span.clone()]);
            consistent_separators(&text[span.clone()])
                && known_issuer(&number)
                && luhn_ok(&number)
                && context::standalone(text, span)
        })?;
        let before = context::window_before(text, span.start, 0);
        let confidence = if context::has_keyword(before, KEYWORDS) {
            Confidence::CERTAIN
        } else {
            Confidence(0.95)
        };
        let end = span.end;
        found.push(Candidate::new(PiiKind::PaymentCard, span, confidence));
        Some(end)
    });
}

/// One kind of separator at most: `4111 1111 1111 1111` or `4111-1111-1111-1111`, not a mix.
fn consistent_separators(candidate: &str) -> bool {
    !(candidate.contains(' ') && candidate.contains('-'))
}

fn known_issuer(number: &[u8]) -> bool {
    SCHEMES.iter().any(|scheme| {
        let width = decimal_width(scheme.from);
        let prefix = number
            .iter()
            .take(width)
            .fold(0u32, |acc, d| acc * 10 + u32::from(*d));
        number.len() >= width
            && (scheme.from..=scheme.to).contains(&prefix)
            && scheme.lengths.contains(&number.len())
    })
}

fn decimal_width(mut n: u32) -> usize {
    let mut width = 1;
    while n >= 10 {
        n /= 10;
        width += 1;
    }
    width
}

/// The Luhn check (ISO/IEC 7812-1 Annex B): doubling every second digit from the right, the
/// digit sum is a multiple of 10.
pub(crate) fn luhn_ok(number: &[u8]) -> bool {
    let sum: u32 = number
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| {
            let d = u32::from(d);
            if i % 2 == 1 {
                let doubled = d * 2;
                if doubled > 9 { doubled - 9 } else { doubled }
            } else {
                d
            }
        })
        .sum();
    !number.is_empty() && sum.is_multiple_of(10)
}

#[cfg(test)]
mod tests {
    use super::{digits, luhn_ok};
    use crate::pii::PiiKind;
    use crate::pii::detect::tests::{found, texts};

    #[test]
    fn finds_cards_of_each_scheme() {
        let text = "Visa 4111 1111 1111 1111, MC 5555-5555-5555-4444, 2-series 2223003122003222, \
                    Amex 3782 822463 10005, Discover 6011111111111117, Maestro 6759649826438453, \
                    JCB 3530111333300000, Diners 30569309025904.";
        assert_eq!(
            texts(text, PiiKind::PaymentCard),
            [
                "4111 1111 1111 1111",
                "5555-5555-5555-4444",
                "2223003122003222",
                "3782 822463 10005",
                "6011111111111117",
                "6759649826438453",
                "3530111333300000",
                "30569309025904"
            ]
        );
        assert_eq!(
            found("card 4111111111111111", PiiKind::PaymentCard)[0].1,
            0.99
        );
    }

    #[test]
    fn drops_a_neighbouring_number() {
        assert_eq!(
            texts("qty 2 4111 1111 1111 1111 12/26", PiiKind::PaymentCard),
            ["4111 1111 1111 1111"]
        );
    }

    #[test]
    fn finds_cards_in_a_row() {
        assert_eq!(
            texts(
                "4111 1111 1111 1111 5555 5555 5555 4444",
                PiiKind::PaymentCard
            ),
            ["4111 1111 1111 1111", "5555 5555 5555 4444"]
        );
    }

    #[test]
    fn rejects_non_luhn_unknown_issuers_and_odd_lengths() {
        for text in [
            "4111 1111 1111 1112",
            "1234 5678 9012 3452",
            "9111111111111111",
            "411111111111113",
            "4111 1111-1111 1111",
            "order 41111111111111111111",
        ] {
            assert!(texts(text, PiiKind::PaymentCard).is_empty(), "{text}");
        }
    }

    #[test]
    fn luhn_known_answers() {
        assert!(luhn_ok(&digits("79927398713")));
        assert!(!luhn_ok(&digits("79927398710")));
        assert!(!luhn_ok(&[]));
    }
}
