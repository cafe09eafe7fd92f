//! Scanning structured documents field by field: JSON (every string, number and key, reported
//! with its JSON pointer, RFC 6901) and CSV (RFC 4180, every field reported with its record,
//! column and header). A field's name says what it should hold: an `email` key or a
//! `geboortedatum` column raises the confidence of a finding of that kind in it, so a bare date
//! in a `date_of_birth` field is a date of birth.

mod csv;
mod hints;
mod json;

pub use self::csv::{mask_csv, scan_csv};
pub use self::json::{MAX_DEPTH, mask_json, scan_json};
pub use hints::field_kind;

use super::{Confidence, Finding, PiiKind, scan_text};

/// The largest document the structured scanners accept, so a hostile upload cannot make a scan
/// hold gigabytes of decoded strings.
pub const MAX_STRUCTURED_BYTES: usize = 64 * 1024 * 1024;

/// The confidence a finding gets when its field is named for its kind.
const NAMED_FIELD: Confidence = Confidence(0.95);

/// Where in a structured document a finding is.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Field {
    /// A JSON string, number or object key.
    Json {
        /// The JSON pointer (RFC 6901) of the value, or of the member whose key it is.
        pointer: String,
        /// Whether the finding is in the member's key rather than its value.
        in_key: bool,
        /// 1-based line of the finding in the document (of its string when the string holds
        /// escape sequences).
        line: usize,
        /// 1-based column, in `char`s.
        column: usize,
    },
    /// A CSV field.
    Csv {
        /// 1-based line on which the record starts.
        line: u64,
        /// 1-based record number, the header counted.
        record: u64,
        /// 1-based field number within the record.
        column: usize,
        /// The column's header, when the first record is one.
        header: Option<String>,
    },
}

impl Field {
    /// The 1-based line in the document.
    pub fn line(&self) -> u64 {
        match self {
            Field::Json { line, .. } => *line as u64,
            Field::Csv { line, .. } => *line,
        }
    }
}

/// One finding in a structured document: the finding within its field's text (span, line and
/// column relative to the field), and where the field is.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldFinding {
    /// The finding, relative to the field's decoded text.
    pub finding: Finding,
    /// Where the field is.
    pub field: Field,
}

/// Why a structured document could not be scanned. No variant carries document text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StructuredError {
    /// The document is larger than [`MAX_STRUCTURED_BYTES`]: split it, or scan it as text.
    #[error("the document is larger than {limit} bytes")]
    TooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// The document nests objects and arrays deeper than the limit: hostile or generated input
    /// that no export of ours produces.
    #[error("the document nests deeper than {limit} levels")]
    TooDeep {
        /// The limit in levels.
        limit: usize,
    },
    /// The document is not valid JSON: the file is damaged or not JSON.
    #[error("not valid JSON (line {line}, column {column})")]
    InvalidJson {
        /// 1-based line of the first problem.
        line: usize,
        /// 1-based column of the first problem.
        column: usize,
    },
    /// The document is not readable as CSV: the file is damaged or not CSV.
    #[error("not valid CSV (line {line})")]
    InvalidCsv {
        /// 1-based line of the first problem.
        line: u64,
    },
}

/// The confidence a bare number gets in a field named for a business reference (`order_id`,
/// `invoice`): about one nine-digit number in eleven passes the elfproef by chance.
const REFERENCE_FIELD: Confidence = Confidence(0.2);

/// The findings in one field's text, with confidence raised where the field's name says what
/// it holds (and, in an address field, any street and house number taken as one), and lowered for BSN- and phone-like numbers where it names a business reference.
fn scan_field(text: &str, name: Option<&str>) -> Vec<Finding> {
    let named = name.and_then(field_kind);
    let reference = name.is_some_and(hints::names_reference);
    let mut findings = scan_text(text);
    if named == Some(PiiKind::PostalAddress) && findings.is_empty() {
        findings.extend(hints::street_and_number(text));
    }
    for finding in &mut findings {
        // A field's name adds to the shape of a value, not to evidence against it (a loopback
        // address, a version number).
        if Some(finding.kind) == named && finding.confidence >= Confidence::LOW {
            finding.confidence = finding.confidence.max(NAMED_FIELD);
        } else if reference && matches!(finding.kind, PiiKind::Bsn | PiiKind::Phone) {
            finding.confidence = REFERENCE_FIELD;
        }
    }
    findings
}

/// Keeps the findings at or above `floor`.
fn at_least(findings: Vec<Finding>, floor: Confidence) -> Vec<Finding> {
    findings
        .into_iter()
        .filter(|f| f.confidence >= floor)
        .collect()
}

/// Checks the size limit.
fn check_size(text: &str) -> Result<(), StructuredError> {
    if text.len() > MAX_STRUCTURED_BYTES {
        return Err(StructuredError::TooLarge {
            limit: MAX_STRUCTURED_BYTES,
        });
    }
    Ok(())
}

/// Line starts of a document, for turning byte offsets into line and column.
struct Lines<'a> {
    text: &'a str,
    starts: Vec<usize>,
}

impl<'a> Lines<'a> {
    fn new(text: &'a str) -> Self {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(at, _)| at + 1));
        Lines { text, starts }
    }

    /// 1-based line and `char` column of byte `offset`.
    fn locate(&self, offset: usize) -> (usize, usize) {
        let line = self.starts.partition_point(|&start| start <= offset);
        let start = self.starts.get(line.wrapping_sub(1)).copied().unwrap_or(0);
        let column = self
            .text
            .get(start..offset)
            .map_or(0, |prefix| prefix.chars().count());
        (line.max(1), column + 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_locate_offsets() {
        let lines = Lines::new("ab\ncé\nx");
        assert_eq!(lines.locate(0), (1, 1));
        assert_eq!(lines.locate(3), (2, 1));
        assert_eq!(lines.locate(6), (2, 3));
        assert_eq!(lines.locate(7), (3, 1));
    }

    #[test]
    fn named_fields_raise_their_kind_only() {
        let date = scan_field("1985-03-14", Some("geboortedatum"));
        assert_eq!(date[0].kind, PiiKind::DateOfBirth);
        assert_eq!(date[0].confidence, NAMED_FIELD);
        let other = scan_field("1985-03-14", Some("email"));
        assert_eq!(other[0].confidence, Confidence::LOW);
        let order = scan_field("100482776", Some("order_ids"));
        assert_eq!(order[0].confidence, REFERENCE_FIELD);
        let bsn = scan_field("100482776", Some("bsn"));
        assert_eq!(bsn[0].confidence, NAMED_FIELD);
        let loopback = scan_field("127.0.0.1", Some("client_ip"));
        assert!(loopback[0].confidence < Confidence::LOW);
        let street = scan_field("Weesperzijde 190", Some("adres"));
        assert_eq!(street[0].kind, PiiKind::PostalAddress);
        assert_eq!(street[0].confidence, NAMED_FIELD);
        assert!(scan_field("Weesperzijde 190", Some("opmerking")).is_empty());
    }
}
