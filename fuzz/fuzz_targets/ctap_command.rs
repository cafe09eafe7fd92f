#![no_main]
//! Raw CTAP commands (command byte + CBOR map) into the virtual key's dispatcher.
libfuzzer_sys::fuzz_target!(|request: &[u8]| {
    let _ = schild_hwkey::ctap::virtual_key::VirtualKey::new().process(request);
});
