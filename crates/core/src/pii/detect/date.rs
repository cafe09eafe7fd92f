//! Dates that may be dates of birth, in the forms Dutch and English text uses: ISO 8601
//! (`1985-03-14`), day-first numeric (`14-03-1985`, `14/03/1985`, `14.03.1985`; month-first
//! when only that reading is a date, as in `03/14/1985`), and written months in Dutch and
//! English (`14 maart 1985`, `14 March 1985`, `March 14, 1985`).
//!
//! A date is a date of birth with high confidence only with a keyword before it on the same
//! line ("born", "date of birth", "DOB", "geboren", "geboortedatum", "geb."); a bare date is
//! reported with low confidence. Impossible dates (31-02) are not dates; a date followed by a
//! time of day is a timestamp and not reported at all.

use super::{Candidate, pattern};
use crate::pii::context;
use crate::pii::{Confidence, PiiKind};
use std::ops::Range;
use std::sync::LazyLock;

static ISO: LazyLock<regex::Regex> =
    LazyLock::new(|| pattern(r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})"));

static NUMERIC: LazyLock<regex::Regex> =
    LazyLock::new(|| pattern(r"([0-9]{1,2})([-/.])([0-9]{1,2})([-/.])([0-9]{4})"));

const MONTHS: &str = "januari|februari|maart|april|mei|juni|juli|augustus|september|oktober|\
                      november|december|january|february|march|may|june|july|august|october|\
                      jan|feb|mrt|mar|apr|jun|jul|aug|sept|sep|okt|oct|nov|dec";

static DAY_MONTH: LazyLock<regex::Regex> = LazyLock::new(|| {
    pattern(&format!(
        r"(?i)([0-9]{{1,2}})(?:e|st|nd|rd|th)?\s(?:of\s)?({MONTHS})\.?,?\s([0-9]{{4}})"
    ))
});

static MONTH_DAY: LazyLock<regex::Regex> = LazyLock::new(|| {
    pattern(&format!(
        r"(?i)({MONTHS})\.?\s([0-9]{{1,2}})(?:st|nd|rd|th)?,?\s([0-9]{{4}})"
    ))
});

/// A time of day right after a date makes it a timestamp.
static TIME_AFTER: LazyLock<regex::Regex> =
    LazyLock::new(|| pattern(r"^(?:T[0-9]|,?\s{1,2}(?:om\s|at\s)?[0-9]{1,2}[:.][0-9]{2})"));

const KEYWORDS: &[&str] = &[
    "born", "birth", "dob$", "d.o.b", "geboren", "geboorte", "geb.", "geb$",
];

pub(super) fn detect(text: &str, found: &mut Vec<Candidate>) {
    let mut dates: Vec<Range<usize>> = Vec::new();
    for c in ISO.captures_iter(text) {
        if let (Some(m), Some(y), Some(mo), Some(d)) = (c.get(0), c.get(1), c.get(2), c.get(3))
            && is_date(y.as_str(), mo.as_str(), d.as_str())
        {
            dates.push(m.range());
        }
    }
    for c in NUMERIC.captures_iter(text) {
        let (Some(m), Some(a), Some(s1), Some(b), Some(s2), Some(y)) =
            (c.get(0), c.get(1), c.get(2), c.get(3), c.get(4), c.get(5))
        else {
            continue;
        };
        if s1.as_str() != s2.as_str() {
            continue;
        }
        let (a, b, y) = (a.as_str(), b.as_str(), y.as_str());
        if is_date(y, b, a) || is_date(y, a, b) {
            dates.push(m.range());
        }
    }
    for c in DAY_MONTH.captures_iter(text) {
        if let (Some(m), Some(d), Some(mo), Some(y)) = (c.get(0), c.get(1), c.get(2), c.get(3))
            && let Some(month) = month_number(mo.as_str())
            && is_date(y.as_str(), &month.to_string(), d.as_str())
        {
            dates.push(m.range());
        }
    }
    for c in MONTH_DAY.captures_iter(text) {
        if let (Some(m), Some(mo), Some(d), Some(y)) = (c.get(0), c.get(1), c.get(2), c.get(3))
            && let Some(month) = month_number(mo.as_str())
            && is_date(y.as_str(), &month.to_string(), d.as_str())
        {
            dates.push(m.range());
        }
    }
    dates.sort_by_key(|span| (span.start, std::cmp::Reverse(span.end)));
    let mut floor = 0;
    for span in dates {
        if span.start < floor {
            continue;
        }
        let timestamp = TIME_AFTER.is_match(&text[span.end..]);
        if context::standalone(text, &span) && !timestamp {
            let before = context::window_before(text, span.start, floor);
            let confidence = if context::has_keyword(before, KEYWORDS) {
                Confidence::HIGH
            } else {
                Confidence::LOW
            };
            found.push(Candidate::new(
                PiiKind::DateOfBirth,
                span.clone(),
                confidence,
            ));
        }
        floor = span.end;
    }
}

/// Whether year, month and day name a day of the Gregorian calendar from 1900 to 2099.
fn is_date(year: &str, month: &str, day: &str) -> bool {
    let (Ok(year), Ok(month), Ok(day)) =
        (year.parse::<i32>(), month.parse::<u8>(), day.parse::<u8>())
    else {
        return false;
    };
    let Ok(month) = time::Month::try_from(month) else {
        return false;
    };
    (1900..=2099).contains(&year) && time::Date::from_calendar_date(year, month, day).is_ok()
}

fn month_number(name: &str) -> Option<u8> {
    let name = name.to_ascii_lowercase();
    let number = match name.get(..3)? {
        "jan" => 1,
        "feb" => 2,
        "maa" | "mrt" | "mar" => 3,
        "apr" => 4,
        "mei" | "may" => 5,
        "jun" => 6,
        "jul" => 7,
        "aug" => 8,
        "sep" => 9,
        "okt" | "oct" => 10,
        "nov" => 11,
        "dec" => 12,
        _ => return None,
    };
    Some(number)
}

#[cfg(test)]
mod tests {
    use crate::pii::PiiKind;
    use crate::pii::detect::tests::found;

    fn dates(text: &str) -> Vec<(String, f32)> {
        found(text, PiiKind::DateOfBirth)
    }

    #[test]
    fn finds_the_common_forms() {
        for text in [
            "1985-03-14",
            "14-03-1985",
            "14/03/1985",
            "03/14/1985",
            "14.03.1985",
            "14 maart 1985",
            "14 March 1985",
            "March 14, 1985",
            "14th of March 1985",
            "mrt. 14 1985",
            "29-02-2000",
        ] {
            assert_eq!(dates(text), [(text.to_owned(), 0.3)], "{text}");
        }
    }

    #[test]
    fn keywords_make_it_a_date_of_birth() {
        for text in [
            "born 14 March 1985",
            "Date of birth: 1985-03-14",
            "DOB 14/03/1985",
            "geboren op 14 maart 1985",
            "Geboortedatum: 14-03-1985",
            "(geb. 14-03-1985)",
            "\"date_of_birth\": \"1985-03-14\"",
        ] {
            let found = dates(text);
            assert_eq!(found.len(), 1, "{text}");
            assert_eq!(found[0].1, 0.9, "{text}");
        }
        // The keyword belongs to the first date only.
        let two = dates("born 14-03-1985, hired 2010-05-01");
        assert_eq!(two.iter().map(|d| d.1).collect::<Vec<_>>(), [0.9, 0.3]);
    }

    #[test]
    fn skips_impossible_dates_and_timestamps() {
        for text in [
            "31-02-1985",
            "1985-13-01",
            "29-02-2001",
            "2024-03-14T10:22:01Z",
            "2024-03-14 10:22:01",
            "14-03-1985 om 10:30",
            "14-03/1985",
            "1.14.03.1985",
            "14 Mayfield 1985",
            "1850-01-01",
        ] {
            assert!(dates(text).is_empty(), "{text}");
        }
    }
}
