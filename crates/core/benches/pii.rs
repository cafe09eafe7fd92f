//! PII scan throughput on a mixed 1 MiB document: support-ticket prose, log lines with
//! timestamps and ids, and a sprinkling of e-mail addresses, IBANs, card numbers, phone numbers,
//! BSNs, IP addresses, dates and addresses, in Dutch and English.
//!
//! Run with `cargo bench -p schild-core --bench pii`.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;

/// Paragraphs repeated to fill the document; about one in three holds personal data.
const PARAGRAPHS: &[&str] = &[
    "Goedemiddag, ik kan niet meer inloggen op het portaal. Mijn telefoonnummer is 06-12345678, \
     u kunt mij na 17:00 bereiken. Alvast bedankt, Marieke de Vries.\n",
    "2024-11-14T08:00:05.871Z INFO  sign-in ok user=jan.devries@example.nl ip=83.84.12.99 \
     ua=\"Firefox/132.0\" took=182ms request_id=7f9c2d1e-88a4-4b1a-9a3e-2f6c1b7d9e10\n",
    "Please refund to NL91 ABNA 0417 1643 00 and not to the card 4111 1111 1111 1111 on file. \
     Order 100482773, invoice INV-2024-114, version 4.12.3.\n",
    "2024-11-14T08:00:10.000Z INFO  health ok uptime=3600s rss=182MB threads=24 \
     build=2024.11.13+git.4f2a9c1 p50=12.3ms p95=88.1ms p99=201.4ms rps=1534.2\n",
    "Nieuwe medewerker, geboortedatum 09-10-1991, BSN 111222333, adres Kerkstraat 12a, \
     1012 AB Amsterdam. Salaris op NL02ABNA0123456789.\n",
    "The quarterly review covered roadmap items, hiring plans and the migration of the \
     reporting stack. No decisions on budget were taken; follow-up meeting next Tuesday.\n",
    "2024-11-14T08:00:13.100Z INFO  client 2001:db8:4006:812::200e GET /healthz 200 12ms\n",
    "Ship to 12 Main Street, Springfield, IL 62704. Call +1 (555) 123-4567 before delivery.\n",
    "Het overleg ging over de planning van het tweede kwartaal en de verdeling van de \
     werkzaamheden over de teams; er zijn geen persoonsgegevens besproken.\n",
];

fn document(size: usize) -> String {
    let mut text = String::with_capacity(size + 512);
    for paragraph in PARAGRAPHS.iter().cycle() {
        if text.len() >= size {
            break;
        }
        text.push_str(paragraph);
    }
    text
}

fn pii(c: &mut Criterion) {
    let text = document(1024 * 1024);
    let mut group = c.benchmark_group("pii");
    group.throughput(Throughput::Bytes(text.len() as u64));
    group.sample_size(20);
    group.bench_function("scan_text_mixed_1mib", |b| {
        b.iter(|| schild_core::pii::scan_text(black_box(&text)).len())
    });
    group.bench_function("mask_mixed_1mib", |b| {
        b.iter(|| schild_core::pii::mask(black_box(&text)).len())
    });
    group.finish();
}

criterion_group!(benches, pii);
criterion_main!(benches);
