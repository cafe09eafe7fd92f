//! WebAuthn assertion verification, the cryptographic heart of a security-key sign-in:
//! webauthn-rs-core checking one ES256 assertion (client data, authenticator data, origin,
//! counter, signature) against a registered credential, on one core.
//!
//! The credential and the assertion come from webauthn-authenticator-rs's software token, as in
//! the end-to-end tests. Verification does not change the stored credential, so one assertion
//! is checked repeatedly. Run with `cargo bench -p schild-server --bench webauthn`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a benchmark fails loudly by design

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::time::Duration;
use url::Url;
use webauthn_authenticator_rs::WebauthnAuthenticator;
use webauthn_authenticator_rs::softtoken::SoftToken;
use webauthn_rs_core::WebauthnCore;
use webauthn_rs_core::proto::{AttestationConveyancePreference, UserVerificationPolicy};

fn assertion_verification(c: &mut Criterion) {
    let origin: Url = "https://schild.test".parse().unwrap();
    let core = WebauthnCore::new_unsafe_experts_only(
        "Schild",
        "schild.test",
        vec![origin.clone()],
        Duration::from_secs(300),
        Some(false),
        Some(false),
    );
    let mut token = SoftToken::new(true).unwrap().0;

    let builder = core
        .new_challenge_register_builder(&[7; 16], "bench", "Bench")
        .unwrap()
        .attestation(AttestationConveyancePreference::Direct)
        .user_verification_policy(UserVerificationPolicy::Preferred);
    let (options, registration) = core.generate_challenge_register(builder).unwrap();
    let answer = token.do_registration(origin.clone(), options).unwrap();
    let credential = core
        .register_credential(&answer, &registration, None)
        .unwrap();

    let builder = core
        .new_challenge_authenticate_builder(vec![credential.clone()], None)
        .unwrap();
    let (options, authentication) = core.generate_challenge_authenticate(builder).unwrap();
    let assertion = token.do_authentication(origin, options).unwrap();

    let mut group = c.benchmark_group("webauthn");
    group.throughput(Throughput::Elements(1));
    group.bench_function("verify_assertion_es256", |b| {
        b.iter(|| {
            core.authenticate_single_credential(&assertion, &authentication, &credential)
                .unwrap()
        })
    });
    group.finish();
}

criterion_group!(benches, assertion_verification);
criterion_main!(benches);
