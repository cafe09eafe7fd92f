//! Discoverable credentials: created as a WebAuthn client would (webauthn-authenticator-rs's
//! CtapAuthenticator against a webauthn-rs relying party), then listed and deleted.

mod support;

use std::collections::BTreeMap;

use futures::executor::block_on;
use schild_hwkey::ctap::{CredentialId, KeyError, PinPolicy, virtual_key::VirtualKey};
use support::{open, pin};
use url::Url;
use webauthn_authenticator_rs::{
    WebauthnAuthenticator,
    ctap2::{
        CtapAuthenticator,
        commands::{GetAssertionRequest, MakeCredentialRequest},
    },
    transport::Token,
    types::{CableRequestType, CableState, EnrollSampleStatus},
    ui::UiCallback,
};
use webauthn_rs::prelude::{Uuid, WebauthnBuilder};
use webauthn_rs_proto::{PubKeyCredParams, RelyingParty, User};

/// A WebAuthn client's UI: types the PIN (if it knows one), nothing else.
#[derive(Debug)]
struct TypesPin(Option<&'static str>);

impl UiCallback for TypesPin {
    fn request_pin(&self) -> Option<String> {
        self.0.map(str::to_owned)
    }
    fn request_touch(&self) {}
    fn processing(&self) {}
    fn fingerprint_enrollment_feedback(&self, _: u32, _: Option<EnrollSampleStatus>) {}
    fn cable_qr_code(&self, _: CableRequestType, _: String) {}
    fn dismiss_qr_code(&self) {}
    fn cable_status_update(&self, _: CableState) {}
}

#[test]
fn passkey_registered_through_webauthn_is_listed_and_deleted() {
    // webauthn-authenticator-rs 0.6 never asks for rk=true; this key stores every credential as
    // discoverable, like passkey-first authenticators.
    let key = VirtualKey::builder().discoverable_by_default(true).build();
    let mut security_key = block_on(open(&key));
    block_on(security_key.set_pin(&pin("1234"), &PinPolicy::default())).unwrap();

    let origin = Url::parse("http://localhost:8080").unwrap();
    let relying_party = WebauthnBuilder::new("localhost", &origin)
        .unwrap()
        .rp_name("Schild test")
        .build()
        .unwrap();
    let ui = TypesPin(Some("1234"));
    let mut client = block_on(CtapAuthenticator::new(key.clone(), &ui)).unwrap();

    let (challenge, registration) = relying_party
        .start_passkey_registration(Uuid::new_v4(), "alice@example.com", "Alice", None)
        .unwrap();
    let response = client.do_registration(origin.clone(), challenge).unwrap();
    let passkey = relying_party
        .finish_passkey_registration(&response, &registration)
        .unwrap();

    // The relying party accepts an assertion signed by the same key, counter moving up.
    for expected_counter in [1, 2] {
        let (challenge, authentication) = relying_party
            .start_passkey_authentication(std::slice::from_ref(&passkey))
            .unwrap();
        let assertion = client.do_authentication(origin.clone(), challenge).unwrap();
        let result = relying_party
            .finish_passkey_authentication(&assertion, &authentication)
            .unwrap();
        assert!(result.user_verified());
        assert_eq!(result.counter(), expected_counter);
    }
    drop(client);

    let listed = block_on(security_key.credentials(&pin("1234"))).unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].rp_id.as_deref(), Some("localhost"));
    assert_eq!(listed[0].rp_name.as_deref(), Some("Schild test"));
    assert_eq!(listed[0].credentials.len(), 1);
    let credential = &listed[0].credentials[0];
    assert_eq!(credential.user_name.as_deref(), Some("alice@example.com"));
    assert_eq!(credential.user_display_name.as_deref(), Some("Alice"));
    assert_eq!(credential.id.as_bytes(), passkey.cred_id().as_slice());

    block_on(security_key.delete_credential(&pin("1234"), &credential.id)).unwrap();
    assert!(
        block_on(security_key.credentials(&pin("1234")))
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        block_on(security_key.delete_credential(&pin("1234"), &credential.id)),
        Err(KeyError::CredentialNotFound)
    );
    assert_eq!(
        block_on(security_key.credentials(&pin("0000"))),
        Err(KeyError::WrongPin { retries_left: 7 })
    );
}

#[test]
fn with_a_fingerprint_the_client_verifies_the_user_by_finger() {
    let key = VirtualKey::builder().discoverable_by_default(true).build();
    let mut security_key = block_on(open(&key));
    block_on(security_key.set_pin(&pin("1234"), &PinPolicy::default())).unwrap();
    block_on(security_key.enroll_fingerprint(&pin("1234"), None)).unwrap();

    let origin = Url::parse("http://localhost:8080").unwrap();
    let relying_party = WebauthnBuilder::new("localhost", &origin)
        .unwrap()
        .build()
        .unwrap();
    // No PIN at hand: the client gets its token with getPinUvAuthTokenUsingUvWithPermissions.
    let ui = TypesPin(None);
    let mut client = block_on(CtapAuthenticator::new(key.clone(), &ui)).unwrap();
    let (challenge, registration) = relying_party
        .start_passkey_registration(Uuid::new_v4(), "bob", "Bob", None)
        .unwrap();
    let response = client.do_registration(origin.clone(), challenge).unwrap();
    relying_party
        .finish_passkey_registration(&response, &registration)
        .unwrap();

    key.set_finger_matches(false);
    let (challenge, _) = relying_party
        .start_passkey_registration(Uuid::new_v4(), "eve", "Eve", None)
        .unwrap();
    assert_eq!(
        client.do_registration(origin, challenge).unwrap_err(),
        webauthn_authenticator_rs::prelude::WebauthnCError::Ctap(
            webauthn_authenticator_rs::error::CtapError::Ctap2UserVerificationInvalid
        )
    );
}

fn make_credential(rp_id: &str, user: &str) -> MakeCredentialRequest {
    MakeCredentialRequest {
        client_data_hash: vec![7; 32],
        rp: RelyingParty {
            id: rp_id.to_owned(),
            name: format!("{rp_id} site"),
        },
        user: User {
            id: user.as_bytes().to_vec(),
            name: user.to_owned(),
            display_name: user.to_uppercase(),
        },
        pub_key_cred_params: vec![PubKeyCredParams {
            type_: "public-key".to_owned(),
            alg: -7,
        }],
        exclude_list: vec![],
        options: Some(BTreeMap::from([("rk".to_owned(), true)])),
        pin_uv_auth_param: None,
        pin_uv_auth_proto: None,
        enterprise_attest: None,
    }
}

#[tokio::test]
async fn resident_keys_group_by_relying_party_and_assert_one_by_one() {
    let key = VirtualKey::new();
    let ui = TypesPin(Some("1234"));
    let mut token = key.clone();
    for (rp, user) in [
        ("a.example", "ann"),
        ("a.example", "bob"),
        ("b.example", "cat"),
    ] {
        token
            .transmit(make_credential(rp, user), &ui)
            .await
            .unwrap();
    }

    // Two discoverable credentials for a.example: getAssertion, then getNextAssertion.
    let assertion = token
        .transmit(
            GetAssertionRequest {
                rp_id: "a.example".to_owned(),
                client_data_hash: vec![1; 32],
                allow_list: vec![],
                options: None,
                pin_uv_auth_param: None,
                pin_uv_auth_proto: None,
            },
            &ui,
        )
        .await
        .unwrap();
    assert_eq!(assertion.number_of_credentials, Some(2));
    let next = key.process(&[0x08]);
    assert_eq!(next[0], 0x00, "getNextAssertion succeeds");
    assert_eq!(key.process(&[0x08]), [0x30], "no third credential");

    let mut security_key = open(&key).await;
    let pin = pin("1234");
    security_key
        .set_pin(&pin, &PinPolicy::default())
        .await
        .unwrap();
    let listed = security_key.credentials(&pin).await.unwrap();
    let summary: Vec<(Option<&str>, Vec<Option<&str>>)> = listed
        .iter()
        .map(|rp| {
            (
                rp.rp_id.as_deref(),
                rp.credentials
                    .iter()
                    .map(|c| c.user_name.as_deref())
                    .collect(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (Some("a.example"), vec![Some("ann"), Some("bob")]),
            (Some("b.example"), vec![Some("cat")]),
        ]
    );
    assert_eq!(
        security_key
            .delete_credential(&pin, &CredentialId::from(vec![0; 32]))
            .await,
        Err(KeyError::CredentialNotFound)
    );

    // Once a PIN is set, a new credential needs it.
    let error = token
        .transmit(make_credential("c.example", "dan"), &ui)
        .await
        .unwrap_err();
    assert_eq!(
        error,
        webauthn_authenticator_rs::prelude::WebauthnCError::Ctap(
            webauthn_authenticator_rs::error::CtapError::Ctap2PUATRequired
        )
    );
}
