//! What a field's name says it holds.

use crate::pii::detect::pattern;
use crate::pii::{Confidence, Finding, PiiKind};
use std::sync::LazyLock;

/// A whole field that is a street name and house number, whatever the street is called
/// (`Weesperzijde 190`, `Meir 1`): free text would need a street-type word to tell it from
/// "Ticket 12", a field named for an address does not.
static STREET_AND_NUMBER: LazyLock<regex::Regex> = LazyLock::new(|| {
    pattern(
        r"^[ \t]*[A-Z][A-Za-zÀ-ÿ'.-]+(?: [A-Za-zÀ-ÿ'.-]+){0,4} [0-9]{1,5}(?:[ -]?[A-Za-z]{1,2}|-[0-9]{1,4})?[ \t]*$",
    )
});

/// The field as one postal address finding, if it is a street and house number.
pub(super) fn street_and_number(text: &str) -> Option<Finding> {
    STREET_AND_NUMBER.is_match(text).then(|| {
        let start = text.len() - text.trim_start().len();
        let end = text.trim_end().len();
        Finding {
            kind: PiiKind::PostalAddress,
            span: start..end,
            line: 1,
            column: text[..start].chars().count() + 1,
            confidence: Confidence::MEDIUM,
            value: text[start..end].to_owned(),
        }
    })
}

/// The kind of personal data a JSON key or CSV header names, in Dutch or English, whatever its
/// case and separators (`date_of_birth`, `DateOfBirth`, `geboorte-datum`, `E-mail adres`).
pub fn field_kind(name: &str) -> Option<PiiKind> {
    let name: String = name
        .chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect();
    let has = |words: &[&str]| words.iter().any(|w| name.contains(w));
    let kind = if has(&["mail"]) {
        PiiKind::Email
    } else if has(&[
        "iban",
        "rekeningnummer",
        "bankaccount",
        "bankrekening",
        "accountnumber",
    ]) {
        PiiKind::Iban
    } else if has(&["bsn", "burgerservice", "sofinummer", "citizenservice"]) {
        PiiKind::Bsn
    } else if has(&["creditcard", "cardnumber", "kaartnummer", "betaalpas"])
        || name == "pan"
        || name == "card"
    {
        PiiKind::PaymentCard
    } else if has(&["ipaddress", "ipadres", "remoteaddr"])
        || [
            "ip", "ipv4", "ipv6", "clientip", "remoteip", "sourceip", "srcip", "dstip", "peerip",
            "userip",
        ]
        .contains(&name.as_str())
    {
        PiiKind::IpAddress
    } else if has(&["birth", "geboorte", "geboren"]) || name == "dob" {
        PiiKind::DateOfBirth
    } else if has(&["phone", "telefoon", "mobiel", "mobile", "gsm", "fax"])
        || name.starts_with("tel")
    {
        PiiKind::Phone
    } else if has(&[
        "address",
        "adres",
        "street",
        "straat",
        "postcode",
        "postal",
        "zipcode",
        "woonplaats",
        "huisnummer",
    ]) || name == "zip"
    {
        PiiKind::PostalAddress
    } else {
        return None;
    };
    Some(kind)
}

/// Whether a JSON key or CSV header names a business reference (an order, invoice or ticket
/// number, an id) rather than personal data.
pub(super) fn names_reference(name: &str) -> bool {
    // Words split at separators and at camelCase humps: `orderId` is `order` and `id`.
    let mut words: Vec<String> = Vec::new();
    let mut current = String::new();
    let mut previous_lower = false;
    for c in name.chars() {
        let boundary = !c.is_alphanumeric() || (c.is_uppercase() && previous_lower);
        if boundary && !current.is_empty() {
            words.push(std::mem::take(&mut current));
        }
        if c.is_alphanumeric() {
            current.extend(c.to_lowercase());
        }
        previous_lower = c.is_lowercase();
    }
    if !current.is_empty() {
        words.push(current);
    }
    words.iter().any(|word| {
        [
            "order",
            "orders",
            "invoice",
            "factuur",
            "ticket",
            "ref",
            "reference",
            "referentie",
            "kenmerk",
            "id",
            "ids",
            "sku",
            "tracking",
            "batch",
            "job",
            "build",
            "serial",
            "ordernummer",
            "factuurnummer",
            "klantnummer",
            "personeelsnummer",
        ]
        .contains(&word.as_str())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_in_both_languages() {
        let cases = [
            ("email", Some(PiiKind::Email)),
            ("E-mail adres", Some(PiiKind::Email)),
            ("iban", Some(PiiKind::Iban)),
            ("Rekeningnummer", Some(PiiKind::Iban)),
            ("bsn", Some(PiiKind::Bsn)),
            ("date_of_birth", Some(PiiKind::DateOfBirth)),
            ("Geboortedatum", Some(PiiKind::DateOfBirth)),
            ("DOB", Some(PiiKind::DateOfBirth)),
            ("phone", Some(PiiKind::Phone)),
            ("telefoonnummer", Some(PiiKind::Phone)),
            ("client_ip", Some(PiiKind::IpAddress)),
            ("card_number", Some(PiiKind::PaymentCard)),
            ("straat", Some(PiiKind::PostalAddress)),
            ("Postcode", Some(PiiKind::PostalAddress)),
            ("ticket", None),
            ("description", None),
            ("zipper", None),
        ];
        for (name, kind) in cases {
            assert_eq!(field_kind(name), kind, "{name}");
        }
    }

    #[test]
    fn reference_names() {
        for name in [
            "order_ids",
            "orderId",
            "invoice",
            "Ticket",
            "id",
            "klantnummer",
        ] {
            assert!(names_reference(name), "{name}");
        }
        for name in ["bsn", "phone", "email", "notes", "valid"] {
            assert!(!names_reference(name), "{name}");
        }
    }
}
