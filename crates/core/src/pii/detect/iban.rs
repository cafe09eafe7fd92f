//! International Bank Account Numbers (ISO 13616-1): a country code, two check digits and a
//! country-specific BBAN, written compact or in groups of four. A candidate counts only with its
//! country's exact length and a valid ISO 7064 MOD 97-10 check (ISO 13616-1 §6.3).

use super::{Candidate, find_each, pattern};
use crate::pii::context;
use crate::pii::{Confidence, PiiKind};
use std::sync::LazyLock;

static IBAN: LazyLock<regex::Regex> =
    LazyLock::new(|| pattern(r"[A-Za-z]{2}[0-9]{2}(?: ?[A-Za-z0-9]){11,30}"));

/// IBAN length per country, from the SWIFT IBAN registry (release 101), the registration
/// authority for ISO 13616; cross-checked against python-stdnum's copy of the registry.
#[rustfmt::skip]
const LENGTHS: &[(&str, usize)] = &[
    ("AD", 24), ("AE", 23), ("AL", 28), ("AT", 20), ("AZ", 28), ("BA", 20), ("BE", 16),
    ("BG", 22), ("BH", 22), ("BI", 27), ("BR", 29), ("BY", 28), ("CH", 21), ("CR", 22),
    ("CY", 28), ("CZ", 24), ("DE", 22), ("DJ", 27), ("DK", 18), ("DO", 28), ("EE", 20),
    ("EG", 29), ("ES", 24), ("FI", 18), ("FK", 18), ("FO", 18), ("FR", 27), ("GB", 22),
    ("GE", 22), ("GI", 23), ("GL", 18), ("GR", 27), ("GT", 28), ("HN", 28), ("HR", 21),
    ("HU", 28), ("IE", 22), ("IL", 23), ("IQ", 23), ("IS", 26), ("IT", 27), ("JO", 30),
    ("KW", 30), ("KZ", 20), ("LB", 28), ("LC", 32), ("LI", 21), ("LT", 20), ("LU", 20),
    ("LV", 21), ("LY", 25), ("MC", 27), ("MD", 24), ("ME", 22), ("MK", 19), ("MN", 20),
    ("MR", 27), ("MT", 31), ("MU", 30), ("NI", 28), ("NL", 18), ("NO", 15), ("OM", 23),
    ("PK", 24), ("PL", 28), ("PS", 29), ("PT", 25), ("QA", 29), ("RO", 24), ("RS", 22),
    ("RU", 33), ("SA", 24), ("SC", 31), ("SD", 18), ("SE", 24), ("SI", 19), ("SK", 24),
    ("SM", 27), ("SO", 23), ("ST", 25), ("SV", 28), ("TL", 23), ("TN", 24), ("TR", 26),
    ("UA", 29), ("VA", 22), ("VG", 24), ("XK", 20), ("YE", 30),
];

pub(super) fn detect(text: &str, found: &mut Vec<Candidate>) {
    find_each(&IBAN, text, |m| {
        let country = m.as_str()[..2].to_ascii_uppercase();
        let &(_, length) = LENGTHS.iter().find(|(code, _)| *code == country)?;
        // Cut the candidate after exactly `length` characters, spaces not counted.
        let end = m
            .as_str()
            .char_indices()
            .filter(|(_, c)| *c != ' ')
            .nth(length - 1)
            .map(|(offset, c)| m.start() + offset + c.len_utf8())?;
        let span = m.start()..end;
        if context::standalone(text, &span) && mod97_ok(&text[span.clone()]) {
            found.push(Candidate::new(PiiKind::Iban, span, Confidence::CERTAIN));
            Some(end)
        } else {
            None
        }
    });
}

/// ISO 7064 MOD 97-10 as ISO 13616-1 §6.3 applies it: move the first four characters to the
/// end, replace letters by 10–35 and check that the number is 1 modulo 97.
pub(crate) fn mod97_ok(iban: &str) -> bool {
    let compact: Vec<char> = iban.chars().filter(|c| *c != ' ').collect();
    if compact.len() < 5 {
        return false;
    }
    let mut remainder: u32 = 0;
    for c in compact[4..].iter().chain(&compact[..4]) {
        let Some(value) = c.to_digit(36) else {
            return false;
        };
        remainder = if value < 10 {
            (remainder * 10 + value) % 97
        } else {
            (remainder * 100 + value) % 97
        };
    }
    remainder == 1
}

#[cfg(test)]
mod tests {
    use super::mod97_ok;
    use crate::pii::PiiKind;
    use crate::pii::detect::tests::texts;

    #[test]
    fn finds_valid_ibans_compact_and_grouped() {
        let text = "Rekening NL91ABNA0417164300, of NL91 ABNA 0417 1643 00 EUR; \
                    DE89 3704 0044 0532 0130 00 en GB29NWBK60161331926819; BE71096123456769.";
        assert_eq!(
            texts(text, PiiKind::Iban),
            [
                "NL91ABNA0417164300",
                "NL91 ABNA 0417 1643 00",
                "DE89 3704 0044 0532 0130 00",
                "GB29NWBK60161331926819",
                "BE71096123456769"
            ]
        );
    }

    #[test]
    fn rejects_wrong_check_digits_lengths_and_countries() {
        for text in [
            "NL92ABNA0417164300",
            "NL91ABNA0417164301",
            "NL91ABNA04171643",
            "NL91ABNA04171643001",
            "XX91ABNA0417164300",
            "DE89370400440532013001",
        ] {
            assert!(texts(text, PiiKind::Iban).is_empty(), "{text}");
        }
    }

    #[test]
    fn mod97_known_answers() {
        // ISO 13616-1 Annex C example and the SWIFT registry's examples.
        assert!(mod97_ok("GB82WEST12345698765432"));
        assert!(mod97_ok("FR1420041010050500013M02606"));
        assert!(!mod97_ok("GB82WEST12345698765433"));
        assert!(!mod97_ok("GB82"));
    }
}
