//! What surrounds a candidate: whether it stands on its own (not glued to a longer token such as
//! `INV-123456782` or `1.2.3.4.5`), and whether a keyword is near it on the same line.

use std::ops::Range;

/// How many bytes before a candidate are searched for a keyword.
pub(crate) const KEYWORD_WINDOW: usize = 48;

/// Whether `span` stands on its own in `text`: the characters around it do not make it part of
/// a longer word, number, version string or identifier.
///
/// Rejected: a letter, digit or `_` right before or after; a `.`, `-`, `/` or `_` joining it to
/// a letter or digit (`INV-0612345678`, `v1.2.3.4`, `1.2.3.4.5`, `a/0612345678`); a `:` or `,`
/// joining it to a digit (`10:22:01`, `1,234567890`).
pub(crate) fn standalone(text: &str, span: &Range<usize>) -> bool {
    let mut before = text[..span.start].chars().rev();
    let mut after = text[span.end..].chars();
    !joined(before.next(), before.next()) && !joined(after.next(), after.next())
}

fn joined(next: Option<char>, beyond: Option<char>) -> bool {
    let Some(next) = next else { return false };
    if next.is_alphanumeric() || next == '_' {
        return true;
    }
    let Some(beyond) = beyond else { return false };
    match next {
        '.' | '-' | '/' | '_' => beyond.is_alphanumeric(),
        ':' | ',' => beyond.is_ascii_digit(),
        _ => false,
    }
}

/// The part of `text` before `start` that is searched for a keyword: at most
/// [`KEYWORD_WINDOW`] bytes, within the same line, and never before `floor` (the end of the
/// previous candidate, so a keyword belongs to the candidate nearest after it).
pub(crate) fn window_before(text: &str, start: usize, floor: usize) -> &str {
    let mut from = start.saturating_sub(KEYWORD_WINDOW).max(floor.min(start));
    while !text.is_char_boundary(from) {
        from += 1;
    }
    let window = &text[from..start];
    match window.rfind('\n') {
        Some(newline) => &window[newline + 1..],
        None => window,
    }
}

/// Whether `window` contains one of `keywords` (lowercase ASCII) as the start of a word: the
/// character before is not a letter, so `geb.` matches in `(geb. 14-03-1985)` and `birth` in
/// `date_of_birth`, but `born` does not match in `stubborn`. A keyword ending in `$` must also
/// end a word (`dob$` matches `DOB:` but not `dobber`).
pub(crate) fn has_keyword(window: &str, keywords: &[&str]) -> bool {
    let lower = window.to_ascii_lowercase();
    keywords.iter().any(|keyword| {
        let (word, whole) = match keyword.strip_suffix('$') {
            Some(word) => (word, true),
            None => (*keyword, false),
        };
        lower.match_indices(word).any(|(at, _)| {
            let starts = lower[..at]
                .chars()
                .next_back()
                .is_none_or(|c| !c.is_alphabetic());
            let ends = !whole
                || lower[at + word.len()..]
                    .chars()
                    .next()
                    .is_none_or(|c| !c.is_alphabetic());
            starts && ends
        })
    })
}

/// Words that say the number next to them is a reference of some business document rather than
/// personal data.
pub(crate) const REFERENCE_WORDS: &[&str] = &[
    "order",
    "bestel",
    "factuur",
    "invoice",
    "inv$",
    "ticket",
    "ref",
    "kenmerk",
    "referentie",
    "zaak",
    "case",
    "dossier",
    "artikel",
    "article",
    "sku",
    "tracking",
    "zending",
    "shipment",
    "pakket",
    "batch",
    "serial",
    "serienummer",
    "build",
    "job",
    "pid$",
    "transaction",
    "transactie",
    "id$",
    "#",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standalone_rejects_glued_tokens() {
        let cases = [
            ("a 123456782 b", 2..11, true),
            ("INV-123456782", 4..13, false),
            ("x123456782", 1..10, false),
            ("v1.2.3.4", 1..8, false),
            ("1.2.3.4.5", 0..7, false),
            ("ip 1.2.3.4.", 3..10, true),
            ("at 10:123456782", 6..15, false),
            ("BSN:123456782", 4..13, true),
            ("(123456782)", 1..10, true),
        ];
        for (text, span, expected) in cases {
            assert_eq!(standalone(text, &span), expected, "{text}");
        }
    }

    #[test]
    fn keywords_start_words() {
        assert!(has_keyword("Date of birth: ", &["birth"]));
        assert!(has_keyword("\"date_of_birth\": \"", &["birth"]));
        assert!(has_keyword("(geb. ", &["geb."]));
        assert!(!has_keyword("stubborn ", &["born"]));
        assert!(has_keyword("DOB: ", &["dob$"]));
        assert!(!has_keyword("dobber ", &["dob$"]));
    }

    #[test]
    fn windows_stay_on_their_line_and_after_the_floor() {
        let text = "born\nx 1985-03-14";
        assert_eq!(window_before(text, 7, 0), "x ");
        assert_eq!(window_before("born 1 2", 7, 6), " ");
        assert_eq!(window_before("é1", 2, 0), "é");
    }
}
