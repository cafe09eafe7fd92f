//! JSON (RFC 8259): every string, number and key is scanned as a field of its own.
//!
//! serde_json validates the document first (syntax, and nesting at most 128 levels); a small
//! walker then follows its structure to know each literal's position and JSON pointer, which
//! serde_json's `Value` does not keep, so findings can be reported by line and column and masked
//! in place without reordering keys or reformatting the document.

use super::{Field, FieldFinding, Lines, StructuredError, at_least, check_size, scan_field};
use crate::pii::mask::mask_findings;
use crate::pii::{Confidence, Finding};
use std::ops::Range;

/// The deepest nesting of objects and arrays accepted (serde_json's own default limit).
pub const MAX_DEPTH: usize = 128;

/// A string, number or key of the document.
struct Literal {
    /// Byte range in the document, quotes included.
    span: Range<usize>,
    pointer: String,
    /// The nearest member name, which says what the literal holds.
    name: Option<String>,
    in_key: bool,
    number: bool,
}

/// Every finding in the JSON document `text`, at any confidence, in document order.
pub fn scan_json(text: &str) -> Result<Vec<FieldFinding>, StructuredError> {
    let literals = literals(text)?;
    let lines = Lines::new(text);
    let mut out = Vec::new();
    for literal in literals {
        let (decoded, escaped) = decode(text, &literal)?;
        for finding in scan_field(&decoded, literal.name.as_deref()) {
            let offset = if escaped {
                literal.span.start
            } else if literal.number {
                literal.span.start + finding.span.start
            } else {
                literal.span.start + 1 + finding.span.start
            };
            let (line, column) = lines.locate(offset);
            out.push(FieldFinding {
                finding,
                field: Field::Json {
                    pointer: literal.pointer.clone(),
                    in_key: literal.in_key,
                    line,
                    column,
                },
            });
        }
    }
    Ok(out)
}

/// The JSON document `text` with every finding at or above `floor` masked in place. A masked
/// number becomes a string holding its mask; everything else keeps its place and layout.
pub fn mask_json(text: &str, floor: Confidence) -> Result<String, StructuredError> {
    let literals = literals(text)?;
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for literal in literals {
        let (decoded, _) = decode(text, &literal)?;
        let findings: Vec<Finding> = at_least(scan_field(&decoded, literal.name.as_deref()), floor);
        if findings.is_empty() {
            continue;
        }
        let masked = mask_findings(&decoded, &findings);
        let encoded =
            serde_json::to_string(&masked).map_err(|_| invalid(text, literal.span.start))?;
        out.push_str(&text[at..literal.span.start]);
        out.push_str(&encoded);
        at = literal.span.end;
    }
    out.push_str(&text[at..]);
    Ok(out)
}

/// The literal's text as the document means it, and whether it held escape sequences.
fn decode(text: &str, literal: &Literal) -> Result<(String, bool), StructuredError> {
    let raw = &text[literal.span.clone()];
    if literal.number {
        return Ok((raw.to_owned(), false));
    }
    let decoded: String =
        serde_json::from_str(raw).map_err(|_| invalid(text, literal.span.start))?;
    Ok((decoded, raw.contains('\\')))
}

fn invalid(text: &str, offset: usize) -> StructuredError {
    let (line, column) = Lines::new(text).locate(offset);
    StructuredError::InvalidJson { line, column }
}

/// Validates `text` and lists its literals in document order.
fn literals(text: &str) -> Result<Vec<Literal>, StructuredError> {
    check_size(text)?;
    check_depth(text)?;
    serde_json::from_str::<serde::de::IgnoredAny>(text).map_err(|error| {
        StructuredError::InvalidJson {
            line: error.line(),
            column: error.column(),
        }
    })?;
    let mut walker = Walker {
        text,
        pos: 0,
        out: Vec::new(),
    };
    walker.value(&mut String::new(), None)?;
    Ok(walker.out)
}

/// Rejects documents nested deeper than [`MAX_DEPTH`] before anything recurses into them.
fn check_depth(text: &str) -> Result<(), StructuredError> {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for byte in text.bytes() {
        if in_string {
            match (escaped, byte) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match byte {
            b'"' => in_string = true,
            b'{' | b'[' => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return Err(StructuredError::TooDeep { limit: MAX_DEPTH });
                }
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}

/// Follows the structure of a document serde_json has already accepted. Every step still checks
/// its bounds, so a disagreement between the two ends in an error, never a panic.
struct Walker<'a> {
    text: &'a str,
    pos: usize,
    out: Vec<Literal>,
}

impl Walker<'_> {
    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.pos).copied()
    }

    fn skip_whitespace(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    fn expect(&mut self, byte: u8) -> Result<(), StructuredError> {
        self.skip_whitespace();
        if self.peek() == Some(byte) {
            self.pos += 1;
            Ok(())
        } else {
            Err(invalid(self.text, self.pos))
        }
    }

    fn value(&mut self, pointer: &mut String, name: Option<&str>) -> Result<(), StructuredError> {
        self.skip_whitespace();
        match self.peek() {
            Some(b'{') => self.object(pointer),
            Some(b'[') => self.array(pointer, name),
            Some(b'"') => {
                let span = self.string()?;
                self.push(span, pointer, name, false, false);
                Ok(())
            }
            Some(b'-' | b'0'..=b'9') => {
                let start = self.pos;
                while matches!(
                    self.peek(),
                    Some(b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9')
                ) {
                    self.pos += 1;
                }
                self.push(start..self.pos, pointer, name, false, true);
                Ok(())
            }
            Some(b't' | b'f' | b'n') => {
                while matches!(self.peek(), Some(b'a'..=b'z')) {
                    self.pos += 1;
                }
                Ok(())
            }
            _ => Err(invalid(self.text, self.pos)),
        }
    }

    fn object(&mut self, pointer: &mut String) -> Result<(), StructuredError> {
        self.expect(b'{')?;
        self.skip_whitespace();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return Ok(());
        }
        loop {
            self.skip_whitespace();
            let key_span = self.string()?;
            let key: String = serde_json::from_str(&self.text[key_span.clone()])
                .map_err(|_| invalid(self.text, key_span.start))?;
            let parent = pointer.len();
            pointer.push('/');
            pointer.push_str(&key.replace('~', "~0").replace('/', "~1"));
            self.push(key_span, pointer, None, true, false);
            self.expect(b':')?;
            self.value(pointer, Some(&key))?;
            pointer.truncate(parent);
            self.skip_whitespace();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(());
                }
                _ => return Err(invalid(self.text, self.pos)),
            }
        }
    }

    fn array(&mut self, pointer: &mut String, name: Option<&str>) -> Result<(), StructuredError> {
        self.expect(b'[')?;
        self.skip_whitespace();
        if self.peek() == Some(b']') {
            self.pos += 1;
            return Ok(());
        }
        let mut index = 0usize;
        loop {
            let parent = pointer.len();
            pointer.push('/');
            pointer.push_str(&index.to_string());
            self.value(pointer, name)?;
            pointer.truncate(parent);
            index += 1;
            self.skip_whitespace();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    return Ok(());
                }
                _ => return Err(invalid(self.text, self.pos)),
            }
        }
    }

    /// A string literal starting at the current position; returns its span, quotes included.
    fn string(&mut self) -> Result<Range<usize>, StructuredError> {
        let start = self.pos;
        if self.peek() != Some(b'"') {
            return Err(invalid(self.text, start));
        }
        self.pos += 1;
        loop {
            match self.peek() {
                Some(b'\\') => self.pos += 2,
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(start..self.pos);
                }
                Some(_) => self.pos += 1,
                None => return Err(invalid(self.text, start)),
            }
        }
    }

    fn push(
        &mut self,
        span: Range<usize>,
        pointer: &str,
        name: Option<&str>,
        in_key: bool,
        number: bool,
    ) {
        self.out.push(Literal {
            span,
            pointer: pointer.to_owned(),
            name: name.map(str::to_owned),
            in_key,
            number,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pii::PiiKind;

    const DOCUMENT: &str = r#"{
  "ticket": 4711,
  "customer": {"name": "J. Jansen", "email": "jan@example.nl", "bsn": 123456782},
  "contacts": ["06-12345678", "info@example.com"],
  "date_of_birth": "1985-03-14",
  "note": "escaped \"quote\" then 4111 1111 1111 1111",
  "jan@example.nl": true
}"#;

    #[test]
    fn reports_pointers_and_positions() {
        let found = scan_json(DOCUMENT).unwrap_or_default();
        let summary: Vec<(PiiKind, String, bool, usize, usize, f32)> = found
            .iter()
            .map(|f| match &f.field {
                Field::Json {
                    pointer,
                    in_key,
                    line,
                    column,
                } => (
                    f.finding.kind,
                    pointer.clone(),
                    *in_key,
                    *line,
                    *column,
                    f.finding.confidence.get(),
                ),
                Field::Csv { .. } => unreachable!(),
            })
            .collect();
        let expected: Vec<(PiiKind, String, bool, usize, usize, f32)> = vec![
            (PiiKind::Email, "/customer/email".into(), false, 3, 47, 0.95),
            (PiiKind::Bsn, "/customer/bsn".into(), false, 3, 71, 0.95),
            (PiiKind::Phone, "/contacts/0".into(), false, 4, 17, 0.85),
            (PiiKind::Email, "/contacts/1".into(), false, 4, 32, 0.95),
            (
                PiiKind::DateOfBirth,
                "/date_of_birth".into(),
                false,
                5,
                21,
                0.95,
            ),
            (PiiKind::PaymentCard, "/note".into(), false, 6, 11, 0.95),
            (PiiKind::Email, "/jan@example.nl".into(), true, 7, 4, 0.95),
        ];
        assert_eq!(summary, expected);
    }

    #[test]
    fn masks_in_place() {
        let masked = mask_json(DOCUMENT, Confidence::REPORT).unwrap_or_default();
        assert_eq!(
            masked,
            r#"{
  "ticket": 4711,
  "customer": {"name": "J. Jansen", "email": "j***@example.nl", "bsn": "*******82"},
  "contacts": ["**-******78", "i***@example.com"],
  "date_of_birth": "1985-**-**",
  "note": "escaped \"quote\" then **** **** **** 1111",
  "j***@example.nl": true
}"#
        );
        assert!(serde_json::from_str::<serde::de::IgnoredAny>(&masked).is_ok());
    }

    #[test]
    fn rejects_invalid_and_too_deep_documents() {
        assert_eq!(
            scan_json("{\"a\": [1, 2,]}").err(),
            Some(StructuredError::InvalidJson {
                line: 1,
                column: 13
            })
        );
        let deep = "[".repeat(200) + &"]".repeat(200);
        assert_eq!(
            scan_json(&deep).err(),
            Some(StructuredError::TooDeep { limit: MAX_DEPTH })
        );
        let hostile = "[".repeat(1_000_000);
        assert!(scan_json(&hostile).is_err());
        let fine = "[".repeat(128) + &"]".repeat(128);
        assert!(scan_json(&fine).is_ok());
        let error = scan_json("{\"email\": \"jan@example.nl\"").err();
        assert!(!format!("{error:?}").contains("jan"));
    }
}
