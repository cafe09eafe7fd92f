//! IP addresses: IPv4 in dotted-quad form (RFC 791) and IPv6 in the text forms of RFC 4291
//! §2.2 and RFC 5952, validated by std's own parsers. Version strings (`v1.2.3.4`,
//! `1.2.3.4.5`, "version 1.2.3.4") are not addresses; loopback addresses, `0.0.0.0/8` ("this
//! network", RFC 1122 §3.2.1.3, never a host's address on the wire) and the broadcast address are
//! reported with low confidence because they identify no one.

use super::{Candidate, pattern};
use crate::pii::context;
use crate::pii::{Confidence, PiiKind};
use std::net::{Ipv4Addr, Ipv6Addr};
use std::sync::LazyLock;

static IPV4: LazyLock<regex::Regex> =
    LazyLock::new(|| pattern(r"[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}"));

static PORT: LazyLock<regex::Regex> = LazyLock::new(|| pattern(r"^:[0-9]{1,5}"));

/// Hex groups with a colon in the first five characters, optionally ending in an embedded
/// dotted quad (RFC 4291 §2.2 form 3); the dotted-quad branch comes first so that it wins.
static IPV6: LazyLock<regex::Regex> = LazyLock::new(|| {
    pattern(
        r"[0-9A-Fa-f]{0,4}:[0-9A-Fa-f]{0,4}:(?:[0-9A-Fa-f:]{0,30}?[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}|[0-9A-Fa-f:]{0,35})",
    )
});

/// An address that identifies no one: kept for completeness, never raised by a field name.
const NOBODY: Confidence = Confidence(0.1);

const VERSION_WORDS: &[&str] = &["version", "versie", "ver.", "release", "build", "firmware"];

pub(super) fn detect(text: &str, found: &mut Vec<Candidate>) {
    for m in IPV4.find_iter(text) {
        let Ok(address) = m.as_str().parse::<Ipv4Addr>() else {
            continue;
        };
        // `203.0.113.7:443`: a port belongs to the address, it does not glue it to a number.
        let port = PORT.find(&text[m.end()..]).map_or(0, |p| p.end());
        if !context::standalone(text, &(m.start()..m.end() + port)) {
            continue;
        }
        let before = context::window_before(text, m.start(), 0);
        let confidence = if context::has_keyword(before, VERSION_WORDS) {
            Confidence(0.2)
        } else if address.is_loopback() || address.octets()[0] == 0 || address.is_broadcast() {
            NOBODY
        } else {
            Confidence::HIGH
        };
        found.push(Candidate::new(PiiKind::IpAddress, m.range(), confidence));
    }
    for m in IPV6.find_iter(text) {
        let candidate = m.as_str();
        // At least two colons and a `::` or all eight groups; MAC addresses (six groups) and
        // times (`10:22:01`) fail std's parser.
        if candidate.matches(':').count() < 2 {
            continue;
        }
        let Ok(address) = candidate.parse::<Ipv6Addr>() else {
            continue;
        };
        // A `.` glues only when a digit is behind it (`…:8329.` ends a sentence).
        let glued = |c: Option<char>, beyond: Option<char>| match c {
            Some('.') => beyond.is_some_and(|b| b.is_ascii_digit()),
            Some(c) => c.is_alphanumeric() || c == ':' || c == '_',
            None => false,
        };
        let mut before = text[..m.start()].chars().rev();
        let mut after = text[m.end()..].chars();
        let glued_before = glued(before.next(), before.next());
        let glued_after = glued(after.next(), after.next());
        if glued_before || glued_after {
            continue;
        }
        // `dead::beef` parses, but an address written by a person or a program has a digit.
        if !candidate.bytes().any(|b| b.is_ascii_digit()) {
            continue;
        }
        let confidence = if address.is_loopback() || address.is_unspecified() {
            NOBODY
        } else {
            Confidence::HIGH
        };
        found.push(Candidate::new(PiiKind::IpAddress, m.range(), confidence));
    }
}

#[cfg(test)]
mod tests {
    use crate::pii::PiiKind;
    use crate::pii::detect::tests::{found, texts};

    #[test]
    fn finds_v4_and_v6() {
        let text = "from 203.0.113.7 and [2001:db8::8a2e:370:7334]:443, fe80::1%eth0, \
                    ::ffff:192.0.2.128 and 2001:0db8:0000:0000:0000:ff00:0042:8329.";
        let found: Vec<String> = crate::pii::scan_text(text)
            .into_iter()
            .map(|f| f.value().to_owned())
            .collect();
        assert_eq!(
            found,
            [
                "203.0.113.7",
                "2001:db8::8a2e:370:7334",
                "fe80::1",
                "::ffff:192.0.2.128",
                "2001:0db8:0000:0000:0000:ff00:0042:8329"
            ]
        );
    }

    #[test]
    fn skips_versions_times_and_macs() {
        for text in [
            "v1.2.3.4",
            "1.2.3.4.5",
            "256.1.1.1",
            "10:22:01",
            "00:1A:2B:3C:4D:5E",
            "std::io::Error",
            "dead::beef",
            "1.2.3",
        ] {
            assert!(texts(text, PiiKind::IpAddress).is_empty(), "{text}");
        }
        assert_eq!(found("version 1.2.3.4", PiiKind::IpAddress)[0].1, 0.2);
        assert_eq!(found("127.0.0.1", PiiKind::IpAddress)[0].1, 0.1);
        assert_eq!(
            found("to 203.0.113.7:443 ok", PiiKind::IpAddress)[0].0,
            "203.0.113.7"
        );
    }
}
