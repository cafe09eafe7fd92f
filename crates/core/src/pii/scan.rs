//! Scanning free text: run every detector, resolve overlaps, and locate each finding by line and
//! column.

use super::detect::{self, Candidate};
use super::{Confidence, Finding, PiiKind};
use std::collections::{BTreeMap, BTreeSet};

/// Every piece of personal data found in `text`, at any confidence, sorted by position and
/// without overlaps.
///
/// When candidates overlap, the one of the more specific kind wins (an IBAN over the BSN-like
/// digits inside it, a card number over a phone number), then the more confident, then the
/// longer. Runs in time linear in `text` (the candidate patterns are finite automata with bounded
/// repetitions) and never panics, whatever the input.
pub fn scan_text(text: &str) -> Vec<Finding> {
    let candidates = resolve(detect::all(text));
    locate(text, candidates)
}

/// Keeps the best of every group of overlapping candidates, sorted by start.
pub(crate) fn resolve(mut candidates: Vec<Candidate>) -> Vec<Candidate> {
    candidates.sort_by(|a, b| {
        b.kind
            .precedence()
            .cmp(&a.kind.precedence())
            .then(b.confidence.get().total_cmp(&a.confidence.get()))
            .then((b.span.end - b.span.start).cmp(&(a.span.end - a.span.start)))
            .then(a.span.start.cmp(&b.span.start))
    });
    // Kept spans by start. They never overlap, so their ends are sorted too, and the only kept
    // span that can overlap a candidate is the last one starting before the candidate ends.
    let mut kept: BTreeMap<usize, Candidate> = BTreeMap::new();
    for candidate in candidates {
        let overlaps = kept
            .range(..candidate.span.end)
            .next_back()
            .is_some_and(|(_, k)| k.span.end > candidate.span.start);
        if !overlaps && !candidate.span.is_empty() {
            kept.insert(candidate.span.start, candidate);
        }
    }
    kept.into_values().collect()
}

/// Turns sorted candidates into findings with 1-based line and `char` column, in one pass over
/// the text.
fn locate(text: &str, candidates: Vec<Candidate>) -> Vec<Finding> {
    let mut line = 1;
    let mut line_start = 0;
    let mut scanned = 0;
    candidates
        .into_iter()
        .map(|candidate| {
            for (offset, byte) in text.as_bytes()[scanned..candidate.span.start]
                .iter()
                .enumerate()
            {
                if *byte == b'\n' {
                    line += 1;
                    line_start = scanned + offset + 1;
                }
            }
            scanned = candidate.span.start;
            let column = text[line_start..candidate.span.start].chars().count() + 1;
            Finding {
                kind: candidate.kind,
                value: text[candidate.span.clone()].to_owned(),
                span: candidate.span,
                line,
                column,
                confidence: candidate.confidence,
            }
        })
        .collect()
}

/// What a free-text field holds: the kinds of personal data found in it at or above
/// [`Confidence::REPORT`], and the highest confidence among them.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Classification {
    /// The kinds found.
    pub kinds: BTreeSet<PiiKind>,
    /// The highest confidence of any finding, `None` when nothing was found.
    pub highest: Option<Confidence>,
}

impl Classification {
    /// Whether the text holds no personal data that reaches the reporting floor.
    pub fn is_empty(&self) -> bool {
        self.kinds.is_empty()
    }
}

/// Classifies a free-text field by the personal data in it, for deciding how to store or show it.
pub fn classify(text: &str) -> Classification {
    scan_text(text)
        .into_iter()
        .filter(|f| f.confidence >= Confidence::REPORT)
        .fold(Classification::default(), |mut class, finding| {
            class.kinds.insert(finding.kind);
            class.highest = Some(
                class
                    .highest
                    .map_or(finding.confidence, |c| c.max(finding.confidence)),
            );
            class
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn findings_are_sorted_located_and_do_not_overlap() {
        let text = "Ticket 41\nKlant: jan@example.nl, IBAN NL91 ABNA 0417 1643 00\n  tel 06-12345678 é 4111111111111111";
        let found = scan_text(text);
        let summary: Vec<(PiiKind, usize, usize, &str)> = found
            .iter()
            .map(|f| (f.kind, f.line, f.column, f.value()))
            .collect();
        assert_eq!(
            summary,
            [
                (PiiKind::Email, 2, 8, "jan@example.nl"),
                (PiiKind::Iban, 2, 29, "NL91 ABNA 0417 1643 00"),
                (PiiKind::Phone, 3, 7, "06-12345678"),
                (PiiKind::PaymentCard, 3, 21, "4111111111111111"),
            ]
        );
        for f in &found {
            assert_eq!(&text[f.span.clone()], f.value());
        }
    }

    #[test]
    fn a_card_is_not_also_a_phone_and_an_iban_not_a_bsn() {
        let found = scan_text("NL02ABNA0123456789 4111-1111-1111-1111");
        let kinds: Vec<PiiKind> = found.iter().map(|f| f.kind).collect();
        assert_eq!(kinds, [PiiKind::Iban, PiiKind::PaymentCard]);
    }

    #[test]
    fn debug_never_shows_the_value() {
        let found = scan_text("mail jan@example.nl");
        let debug = format!("{found:?}");
        assert!(!debug.contains("jan@example.nl"), "{debug}");
        assert!(debug.contains("Email"));
    }

    #[test]
    fn classify_reports_kinds_and_highest_confidence() {
        let class = classify("BSN 123456782, geboren 14-03-1985, 2024-01-01");
        assert_eq!(
            class.kinds.into_iter().collect::<Vec<_>>(),
            [PiiKind::Bsn, PiiKind::DateOfBirth]
        );
        assert_eq!(class.highest, Some(Confidence(0.97)));
        assert!(classify("nothing to see, version 1.2.3").is_empty());
    }
}
