//! CSV (RFC 4180, and the `;`-separated files Dutch spreadsheets write): every field is scanned
//! on its own, and the header, when the first record is one, names what each column holds.

use super::{Field, FieldFinding, StructuredError, at_least, check_size, scan_field};
use crate::pii::mask::mask_findings;
use crate::pii::{Confidence, Finding, scan_text};

/// Every finding in the CSV document `text`, at any confidence, in document order.
pub fn scan_csv(text: &str) -> Result<Vec<FieldFinding>, StructuredError> {
    check_size(text)?;
    let delimiter = sniff_delimiter(text);
    let mut reader = reader(text, delimiter);
    let mut header: Option<Vec<String>> = None;
    let mut out = Vec::new();
    for (index, record) in reader.records().enumerate() {
        let record = record.map_err(|error| invalid(&error))?;
        let line = record.position().map_or(0, csv::Position::line);
        if index == 0 && is_header(&record) {
            header = Some(record.iter().map(str::to_owned).collect());
            continue;
        }
        for (column, value) in record.iter().enumerate() {
            let name = header.as_ref().and_then(|h| h.get(column)).cloned();
            for finding in scan_field(value, name.as_deref()) {
                out.push(FieldFinding {
                    field: Field::Csv {
                        line: line + finding.line as u64 - 1,
                        record: index as u64 + 1,
                        column: column + 1,
                        header: name.clone(),
                    },
                    finding,
                });
            }
        }
    }
    Ok(out)
}

/// The CSV document `text` with every finding at or above `floor` masked, the header left as it
/// is. Fields are re-quoted where they need it, with the document's own delimiter.
pub fn mask_csv(text: &str, floor: Confidence) -> Result<String, StructuredError> {
    check_size(text)?;
    let delimiter = sniff_delimiter(text);
    let mut reader = reader(text, delimiter);
    let mut writer = csv::WriterBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .from_writer(Vec::with_capacity(text.len()));
    let mut header: Option<Vec<String>> = None;
    for (index, record) in reader.records().enumerate() {
        let record = record.map_err(|error| invalid(&error))?;
        let line = record.position().map_or(0, csv::Position::line);
        let unwritable = || StructuredError::InvalidCsv { line };
        if index == 0 && is_header(&record) {
            header = Some(record.iter().map(str::to_owned).collect());
            writer.write_record(&record).map_err(|_| unwritable())?;
            continue;
        }
        let masked: Vec<String> = record
            .iter()
            .enumerate()
            .map(|(column, value)| {
                let name = header.as_ref().and_then(|h| h.get(column));
                let findings: Vec<Finding> =
                    at_least(scan_field(value, name.map(String::as_str)), floor);
                mask_findings(value, &findings)
            })
            .collect();
        writer.write_record(&masked).map_err(|_| unwritable())?;
    }
    let bytes = writer
        .into_inner()
        .map_err(|_| StructuredError::InvalidCsv { line: 0 })?;
    String::from_utf8(bytes).map_err(|_| StructuredError::InvalidCsv { line: 0 })
}

fn reader(text: &str, delimiter: u8) -> csv::Reader<&[u8]> {
    csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes())
}

fn invalid(error: &csv::Error) -> StructuredError {
    StructuredError::InvalidCsv {
        line: error.position().map_or(0, csv::Position::line),
    }
}

/// `,`, `;` or tab: whichever the first line has most of, outside quotes.
fn sniff_delimiter(text: &str) -> u8 {
    let first = text.lines().next().unwrap_or_default();
    let mut quoted = false;
    let mut counts = [0usize; 3];
    for c in first.chars() {
        match c {
            '"' => quoted = !quoted,
            ',' if !quoted => counts[0] += 1,
            ';' if !quoted => counts[1] += 1,
            '\t' if !quoted => counts[2] += 1,
            _ => {}
        }
    }
    let candidates = [b',', b';', b'\t'];
    let best = (0..3)
        .max_by_key(|&i| (counts[i], std::cmp::Reverse(i)))
        .unwrap_or(0);
    candidates[best]
}

/// Whether the first record names columns rather than holding data: every field has a letter,
/// none is a number and none holds personal data.
fn is_header(record: &csv::StringRecord) -> bool {
    !record.is_empty()
        && record.iter().all(|field| {
            field.chars().any(char::is_alphabetic)
                && field.trim().parse::<f64>().is_err()
                && scan_text(field)
                    .iter()
                    .all(|f| f.confidence < Confidence::REPORT)
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pii::PiiKind;

    const DOCUMENT: &str = "naam;e-mail;telefoon;geboortedatum;opmerking\n\
                            Jan Jansen;jan@example.nl;06-12345678;14-03-1985;\"belt vaak; IBAN NL91ABNA0417164300\"\n\
                            Piet;;;2001-02-29;geen\n";

    #[test]
    fn reports_record_column_and_header() {
        let found = scan_csv(DOCUMENT).unwrap_or_default();
        let summary: Vec<(PiiKind, u64, u64, usize, Option<String>, f32)> = found
            .iter()
            .map(|f| match &f.field {
                Field::Csv {
                    line,
                    record,
                    column,
                    header,
                } => (
                    f.finding.kind,
                    *line,
                    *record,
                    *column,
                    header.clone(),
                    f.finding.confidence.get(),
                ),
                Field::Json { .. } => unreachable!(),
            })
            .collect();
        assert_eq!(
            summary,
            [
                (PiiKind::Email, 2, 2, 2, Some("e-mail".into()), 0.95),
                (PiiKind::Phone, 2, 2, 3, Some("telefoon".into()), 0.95),
                (
                    PiiKind::DateOfBirth,
                    2,
                    2,
                    4,
                    Some("geboortedatum".into()),
                    0.95
                ),
                (PiiKind::Iban, 2, 2, 5, Some("opmerking".into()), 0.99),
            ]
        );
    }

    #[test]
    fn masks_fields_and_keeps_the_header() {
        assert_eq!(
            mask_csv(DOCUMENT, Confidence::REPORT).unwrap_or_default(),
            "naam;e-mail;telefoon;geboortedatum;opmerking\n\
             Jan Jansen;j***@example.nl;**-******78;**-**-1985;\"belt vaak; IBAN NL** **** **** **43 00\"\n\
             Piet;;;2001-02-29;geen\n"
        );
    }

    #[test]
    fn data_in_the_first_row_is_not_a_header() {
        let found = scan_csv("jan@example.nl,06-12345678\n").unwrap_or_default();
        assert_eq!(found.len(), 2);
        assert!(matches!(
            &found[0].field,
            Field::Csv {
                header: None,
                record: 1,
                ..
            }
        ));
    }

    #[test]
    fn sniffs_the_delimiter() {
        assert_eq!(sniff_delimiter("a;b;c\n"), b';');
        assert_eq!(sniff_delimiter("a,b;c,d\n"), b',');
        assert_eq!(sniff_delimiter("a\tb\n"), b'\t');
        assert_eq!(sniff_delimiter("\"a;b\",c\n"), b',');
        assert_eq!(sniff_delimiter(""), b',');
    }
}
