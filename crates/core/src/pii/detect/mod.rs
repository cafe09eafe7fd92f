//! The detectors, one module per family. Each finds candidates with a regular expression,
//! validates them in code and scores them from their context; [`all`] runs them all and leaves
//! overlap resolution to the scanner.

mod address;
mod bsn;
mod card;
mod date;
mod email;
mod iban;
mod ip;
mod phone;

use super::{Confidence, PiiKind};
use std::ops::Range;

/// A validated candidate, before overlaps are resolved.
#[derive(Debug, Clone)]
pub(crate) struct Candidate {
    pub kind: PiiKind,
    pub span: Range<usize>,
    pub confidence: Confidence,
}

impl Candidate {
    fn new(kind: PiiKind, span: Range<usize>, confidence: Confidence) -> Self {
        Candidate {
            kind,
            span,
            confidence,
        }
    }
}

/// Every detector's candidates in `text`, unsorted and possibly overlapping.
pub(crate) fn all(text: &str) -> Vec<Candidate> {
    let mut found = Vec::new();
    email::detect(text, &mut found);
    phone::detect(text, &mut found);
    iban::detect(text, &mut found);
    card::detect(text, &mut found);
    bsn::detect(text, &mut found);
    ip::detect(text, &mut found);
    date::detect(text, &mut found);
    address::detect(text, &mut found);
    found
}

/// Compiles a pattern written into this module. The patterns are constants checked by the
/// unit tests, so a failure here is a programming error caught before release.
#[allow(clippy::expect_used)]
pub(crate) fn pattern(source: &str) -> regex::Regex {
    regex::RegexBuilder::new(source)
        .size_limit(1 << 22)
        .build()
        .expect("built-in PII patterns compile")
}

/// The ASCII digits of `text`, as values 0–9.
fn digits(text: &str) -> Vec<u8> {
    text.bytes()
        .filter(u8::is_ascii_digit)
        .map(|b| b - b'0')
        .collect()
}

/// The sub-ranges of `span` that start and end at its space-separated groups, longest first and
/// leftmost first among equals: `4111 1111 1111 1111 12` yields the whole run, then
/// `4111 1111 1111 1111` and `1111 1111 1111 1111 12`, and so on. Greedy candidate patterns
/// swallow a neighbouring number written with a space; this finds the part that validates.
fn space_groups(text: &str, span: &Range<usize>) -> Vec<Range<usize>> {
    let mut groups: Vec<Range<usize>> = Vec::new();
    let mut start = None;
    for (offset, c) in text[span.clone()].char_indices() {
        let at = span.start + offset;
        match (c == ' ', start) {
            (false, None) => start = Some(at),
            (true, Some(from)) => {
                groups.push(from..at);
                start = None;
            }
            _ => {}
        }
    }
    if let Some(from) = start {
        groups.push(from..span.end);
    }
    let mut windows = Vec::new();
    for len in (1..=groups.len()).rev() {
        for first in 0..=groups.len() - len {
            windows.push(groups[first].start..groups[first + len - 1].end);
        }
    }
    windows
}

/// Runs `pattern` over `text` like `find_iter`, but resumes right after what `accept` took (it
/// returns the end of what it reported), or after the first space of a rejected match, so a
/// greedy match that swallowed the start of the next candidate (`DE89 … 00 en GB29…`, two card
/// numbers in a row) does not hide it.
fn find_each(
    pattern: &regex::Regex,
    text: &str,
    mut accept: impl FnMut(regex::Match<'_>) -> Option<usize>,
) {
    let mut at = 0;
    while let Some(m) = pattern.find_at(text, at) {
        let resume = match accept(m) {
            Some(end) => end,
            None => m
                .as_str()
                .find(' ')
                .map_or(m.end(), |space| m.start() + space + 1),
        };
        // Always move forward, to the next character at least.
        let next_char = m.start() + text[m.start()..].chars().next().map_or(1, char::len_utf8);
        at = resume.max(next_char);
        if at > text.len() {
            break;
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// The texts of `kind`'s candidates in `text`, in order.
    pub(crate) fn found(text: &str, kind: PiiKind) -> Vec<(String, f32)> {
        let mut candidates: Vec<Candidate> =
            all(text).into_iter().filter(|c| c.kind == kind).collect();
        candidates.sort_by_key(|c| c.span.start);
        candidates
            .into_iter()
            .map(|c| (text[c.span].to_owned(), c.confidence.get()))
            .collect()
    }

    /// Just the texts.
    pub(crate) fn texts(text: &str, kind: PiiKind) -> Vec<String> {
        found(text, kind).into_iter().map(|(t, _)| t).collect()
    }
}
