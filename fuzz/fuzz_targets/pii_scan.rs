#![no_main]
//! Untrusted text, JSON and CSV into the PII scanners and masks (none may panic).
libfuzzer_sys::fuzz_target!(|text: &str| {
    let _ = (schild_core::pii::mask(text), schild_core::pii::structured::scan_json(text));
    let _ = schild_core::pii::structured::mask_csv(text, schild_core::pii::Confidence::LOW);
});
