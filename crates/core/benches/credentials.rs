//! Cost of checking credentials: Argon2id at the OWASP floor (the price of every password
//! sign-in, and of every unknown-user sign-in through `verify_dummy`), TOTP verification and a
//! backup-code lookup.
//!
//! Run with `cargo bench -p schild-core --bench credentials`.
#![allow(
    clippy::expect_used,
    reason = "fixed benchmark set-up; a failure there is a bug to see"
)]

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use rand::SeedableRng;
use rand::rngs::StdRng;
use schild_core::backup_codes;
use schild_core::password::{Argon2Params, PasswordPolicy};
use schild_core::totp::{self, TotpSecret};
use secrecy::SecretString;
use time::OffsetDateTime;

fn argon2id(c: &mut Criterion) {
    let policy = PasswordPolicy::new(Argon2Params::OWASP_MINIMUM).expect("the floor is valid");
    let password = SecretString::from("copper kettle wander orbit");
    let stored = policy.hash(&password).expect("hashing works");
    policy.warm_up();

    let mut group = c.benchmark_group("argon2id m=19456 t=2 p=1");
    // Tens of milliseconds per run: fewer samples over a longer window.
    group
        .sample_size(20)
        .measurement_time(Duration::from_secs(10));
    group.bench_function("hash", |b| b.iter(|| policy.hash(black_box(&password))));
    group.bench_function("verify", |b| {
        b.iter(|| policy.verify(black_box(&password), black_box(&stored)))
    });
    group.bench_function("verify_dummy", |b| {
        b.iter(|| policy.verify_dummy(black_box(&password)))
    });
    group.finish();
}

fn totp_verify(c: &mut Criterion) {
    let secret = TotpSecret::generate(&mut StdRng::seed_from_u64(1));
    let unix = 1_700_000_015;
    let now = OffsetDateTime::from_unix_timestamp(unix).expect("a valid time");
    let code = totp::code_at(&secret, u64::try_from(unix).expect("after 1970"));

    let mut group = c.benchmark_group("totp");
    group.bench_function("verify (correct)", |b| {
        b.iter(|| totp::verify(black_box(&secret), black_box(&code), now, None))
    });
    group.bench_function("verify (wrong)", |b| {
        b.iter(|| totp::verify(black_box(&secret), black_box("000000"), now, None))
    });
    group.finish();
}

fn backup_code_find(c: &mut Criterion) {
    let (codes, hashes) = backup_codes::generate_set(&mut StdRng::seed_from_u64(2));
    let last = codes
        .last()
        .expect("a full set")
        .expose_grouped()
        .to_owned();
    c.bench_function("backup_codes find (10 codes)", |b| {
        b.iter(|| backup_codes::find(black_box(&last), black_box(&hashes)))
    });
}

criterion_group!(benches, argon2id, totp_verify, backup_code_find);
criterion_main!(benches);
