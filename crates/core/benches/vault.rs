//! Cost of the vault's encryption: raw AES-256-GCM throughput at 1 KiB, 16 KiB and 1 MiB (compare
//! with `openssl speed -evp aes-256-gcm` run in the same session: `scripts/bench-vault` prints
//! both), and sealing and opening small items as envelopes (a fresh data key, a wrap and an
//! encryption each).
//!
//! Run with `cargo bench -p schild-core --bench vault`.
#![allow(
    clippy::expect_used,
    reason = "fixed benchmark set-up; a failure there is a bug to see"
)]

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use rand::SeedableRng;
use rand::rngs::StdRng;
use schild_core::vault::{ItemContext, LocalKek, open, seal};
use std::hint::black_box;
use zeroize::Zeroizing;

fn aes_256_gcm(c: &mut Criterion) {
    let cipher = Aes256Gcm::new(&Key::<Aes256Gcm>::from([7u8; 32]));
    let nonce = Nonce::from([1u8; 12]);
    let mut group = c.benchmark_group("aes-256-gcm encrypt");
    for size in [1024usize, 16 * 1024, 1024 * 1024] {
        let data = vec![0x5au8; size];
        group.throughput(Throughput::Bytes(size as u64));
        group.bench_function(format!("{size} bytes"), |b| {
            b.iter(|| {
                cipher
                    .encrypt(
                        &nonce,
                        Payload {
                            msg: black_box(&data),
                            aad: b"aad",
                        },
                    )
                    .expect("encrypts")
            })
        });
    }
    group.finish();
}

fn envelopes(c: &mut Criterion) {
    let kek = LocalKek::new("bench:kek;v=1", Zeroizing::new([9u8; 32])).expect("a key");
    let context = ItemContext {
        vault: "desktop",
        item: "0190f1e2-7a7b-7c7d-8e8f-909192939495",
        purpose: "backend-credential",
    };
    let secret = [0x42u8; 64];
    let mut rng = StdRng::seed_from_u64(1);
    let sealed = seal(&kek, context, &secret, &mut rng).expect("seals");
    let mut group = c.benchmark_group("envelope, 64-byte item");
    group.throughput(Throughput::Elements(1));
    group.bench_function("seal", |b| {
        b.iter(|| seal(&kek, context, black_box(&secret), &mut rng).expect("seals"))
    });
    group.bench_function("open", |b| {
        b.iter(|| open(&kek, context, black_box(&sealed)).expect("opens"))
    });
    group.finish();
}

criterion_group!(benches, aes_256_gcm, envelopes);
criterion_main!(benches);
