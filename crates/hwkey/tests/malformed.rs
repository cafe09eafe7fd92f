//! Untrusted bytes never make the virtual key panic: they get a CTAP error status.

use proptest::prelude::*;
use schild_hwkey::ctap::virtual_key::VirtualKey;
use webauthn_authenticator_rs::{
    error::{CtapError, WebauthnCError},
    transport::Token,
    types::{CableRequestType, CableState, EnrollSampleStatus},
    ui::UiCallback,
};

#[derive(Debug)]
struct NoUi;

impl UiCallback for NoUi {
    fn request_pin(&self) -> Option<String> {
        None
    }
    fn request_touch(&self) {}
    fn processing(&self) {}
    fn fingerprint_enrollment_feedback(&self, _: u32, _: Option<EnrollSampleStatus>) {}
    fn cable_qr_code(&self, _: CableRequestType, _: String) {}
    fn dismiss_qr_code(&self) {}
    fn cable_status_update(&self, _: CableState) {}
}

#[test]
fn malformed_requests_get_error_statuses() {
    let key = VirtualKey::new();
    let cases: &[(&[u8], u8)] = &[
        (&[], 0x03),                                         // no command byte: INVALID_LENGTH
        (&[0x42], 0x01),                                     // unknown command
        (&[0x01, 0xff], 0x12),                               // not CBOR
        (&[0x01, 0xa1], 0x12),                               // truncated map
        (&[0x01, 0xa0, 0x00], 0x12),                         // trailing bytes
        (&[0x01, 0x01], 0x11),                               // not a map
        (&[0x01, 0xa1, 0x61, 0x61, 0x01], 0x11),             // text key
        (&[0x01, 0xa0], 0x14),                               // makeCredential without parameters
        (&[0x02, 0xa1, 0x01, 0x01], 0x11),                   // rpId is not text
        (&[0x06, 0xa1, 0x02, 0x63, b'a', b'b', b'c'], 0x11), // subCommand is not an integer
        (&[0x06, 0xa1, 0x02, 0x18, 0x63], 0x3e),             // unknown subCommand
        (&[0x06, 0xa2, 0x01, 0x05, 0x02, 0x02], 0x02),       // unknown PIN protocol
        (&[0x0a, 0xa1, 0x01, 0x01], 0x36),                   // credMgmt without pinUvAuthParam
        (&[0x09, 0xa2, 0x01, 0x02, 0x02, 0x07], 0x02),       // unknown modality
    ];
    for (request, status) in cases {
        assert_eq!(key.process(request), [*status], "request {request:02x?}");
    }
    // Deeply nested CBOR is rejected by the parser's depth limit, not the stack.
    let mut nested = vec![0x01];
    nested.extend(std::iter::repeat_n(0x81, 1000));
    nested.push(0x00);
    assert_eq!(key.process(&nested)[0], 0x12);
}

#[tokio::test]
async fn transmit_raw_reports_the_status_as_a_ctap_error() {
    let mut key = VirtualKey::new();
    assert_eq!(
        key.transmit_raw(&[0x04, 0xff], &NoUi).await.map(|_| ()),
        Ok(()),
        "getInfo ignores its (absent) parameters"
    );
    assert_eq!(
        key.transmit_raw(&[0x01, 0xff], &NoUi).await,
        Err(WebauthnCError::Ctap(CtapError::Ctap2InvalidCBOR))
    );
}

const STATUSES: &[u8] = &[
    0x00, 0x01, 0x02, 0x03, 0x11, 0x12, 0x14, 0x17, 0x19, 0x26, 0x27, 0x28, 0x2b, 0x2c, 0x2e, 0x2f,
    0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x39, 0x3c, 0x3e, 0x3f, 0x40, 0x7f,
];

proptest! {
    #[test]
    fn random_bytes_get_a_status(request in proptest::collection::vec(any::<u8>(), 0..600)) {
        let key = VirtualKey::new();
        let reply = key.process(&request);
        prop_assert!(!reply.is_empty());
        prop_assert!(STATUSES.contains(&reply[0]), "status {:#04x}", reply[0]);
    }

    #[test]
    fn random_parameters_for_each_command_get_a_status(
        command in prop::sample::select(vec![0x01u8, 0x02, 0x04, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0d]),
        body in proptest::collection::vec(any::<u8>(), 0..300),
    ) {
        let key = VirtualKey::new();
        let mut request = vec![command, 0xa0 | (body.len() % 8) as u8];
        request.extend(body);
        let reply = key.process(&request);
        prop_assert!(STATUSES.contains(&reply[0]), "status {:#04x}", reply[0]);
    }
}
