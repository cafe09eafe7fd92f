//! E-mail addresses: RFC 5322 §3.4.1 `addr-spec` in its dot-atom form (the form people write;
//! quoted local parts and address literals are left out) with a DNS domain whose last label is
//! alphabetic (RFC 1123 §2.1), so `root@localhost` and `icon@2x.png`-style file names do not
//! count.

use super::{Candidate, pattern};
use crate::pii::{Confidence, PiiKind};
use std::sync::LazyLock;

/// Local part at most 64 octets, labels at most 63 (RFC 5321 §4.5.3.1).
static EMAIL: LazyLock<regex::Regex> = LazyLock::new(|| {
    pattern(
        r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63}){0,8}\.[A-Za-z]{2,24}",
    )
});

/// File extensions that follow `@2x`-style names in asset paths.
const FILE_SUFFIXES: &[&str] = &["png", "jpg", "jpeg", "gif", "svg", "webp", "ico"];

pub(super) fn detect(text: &str, found: &mut Vec<Candidate>) {
    for m in EMAIL.find_iter(text) {
        let candidate = m.as_str();
        let Some((local, domain)) = candidate.split_once('@') else {
            continue;
        };
        let glued_before = text[..m.start()]
            .chars()
            .next_back()
            .is_some_and(|c| c.is_alphanumeric() || c == '@');
        let glued_after = text[m.end()..]
            .chars()
            .next()
            .is_some_and(|c| c.is_alphanumeric() || c == '@' || c == '-' || c == '_');
        if glued_before || glued_after || !local_ok(local) || !domain_ok(domain) {
            continue;
        }
        found.push(Candidate::new(PiiKind::Email, m.range(), Confidence(0.95)));
    }
}

fn local_ok(local: &str) -> bool {
    !local.starts_with('.') && !local.ends_with('.') && !local.contains("..")
}

fn domain_ok(domain: &str) -> bool {
    let labels: Vec<&str> = domain.split('.').collect();
    if labels
        .iter()
        .any(|label| label.is_empty() || label.starts_with('-') || label.ends_with('-'))
    {
        return false;
    }
    let asset = labels.len() == 2
        && labels[0]
            .strip_suffix('x')
            .is_some_and(|scale| !scale.is_empty() && scale.bytes().all(|b| b.is_ascii_digit()))
        && FILE_SUFFIXES.contains(&labels[1].to_ascii_lowercase().as_str());
    !asset
}

#[cfg(test)]
mod tests {
    use crate::pii::PiiKind;
    use crate::pii::detect::tests::texts;

    #[test]
    fn finds_addresses_people_write() {
        assert_eq!(
            texts(
                "Mail jan.de-vries+hr@example.nl of J.Jansen@Gemeente.Utrecht.NL.",
                PiiKind::Email
            ),
            ["jan.de-vries+hr@example.nl", "J.Jansen@Gemeente.Utrecht.NL"]
        );
        assert_eq!(texts("<a@b.co>", PiiKind::Email), ["a@b.co"]);
    }

    #[test]
    fn skips_look_alikes() {
        for text in [
            "root@localhost",
            "icon@2x.png",
            "user@-bad.example.com",
            "a..b@example.com",
            ".a@example.com",
            "x@y.c",
            "git@192.168.1.1",
        ] {
            assert!(texts(text, PiiKind::Email).is_empty(), "{text}");
        }
    }
}
