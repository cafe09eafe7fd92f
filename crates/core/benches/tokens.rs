//! JWT cost per request: signing (at sign-in and refresh) and verifying (every API call), plus the
//! opaque-token hash done on every refresh.
//!
//! Run with `cargo bench -p schild-core --bench tokens`.

use criterion::{Criterion, criterion_group, criterion_main};
use rand::SeedableRng as _;
use schild_core::ids::{SessionId, UserId, roles};
use schild_core::refresh::OpaqueToken;
use schild_core::token::{KeyRing, SigningKey, VerifyingKey};
use std::hint::black_box;
use time::OffsetDateTime;
use time::macros::datetime;

fn tokens(c: &mut Criterion) {
    let now = datetime!(2025-01-01 00:00 UTC);
    let mut rng = rand::rngs::StdRng::seed_from_u64(1);
    let ring = KeyRing::new(
        "https://schild.example",
        "schild-api",
        SigningKey::generate(&mut rng, now),
        Vec::<(VerifyingKey, OffsetDateTime)>::new(),
    );
    let user = UserId::new_v7(now, &mut rng);
    let session = SessionId::new_v7(now, &mut rng);
    let roles = vec![roles::USER.to_owned()];

    c.bench_function("jwt/sign_access", |b| {
        b.iter(|| {
            ring.issue_access(black_box(user), session, roles.clone(), now, &mut rng)
                .map(|(token, _)| token)
        })
    });

    let (token, _) = ring
        .issue_access(user, session, roles.clone(), now, &mut rng)
        .unwrap_or_else(|error| panic!("issuing the benchmark token failed: {error}"));
    c.bench_function("jwt/verify_access", |b| {
        b.iter(|| ring.verify_access(black_box(&token), now))
    });

    let refresh = OpaqueToken::generate(&mut rng);
    c.bench_function("opaque/parse_and_hash", |b| {
        b.iter(|| OpaqueToken::parse(black_box(refresh.expose())).map(|token| token.hash()))
    });
}

criterion_group!(benches, tokens);
criterion_main!(benches);
