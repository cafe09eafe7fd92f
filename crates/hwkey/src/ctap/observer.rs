//! Progress from a key operation to whoever shows it: the CLI prints, the desktop app emits events.
//!
//! [`UiBridge`] is this crate's webauthn-authenticator-rs `UiCallback`: it hands the library the
//! PIN the caller supplied for this operation and forwards prompts and progress to a
//! [`KeyObserver`].

use std::fmt;

use webauthn_authenticator_rs::{
    types::{CableRequestType, CableState, EnrollSampleStatus},
    ui::UiCallback,
};

use super::Pin;

/// Receives prompts and progress during key operations. Every method has a no-op default; calls
/// come synchronously from the operation and must not block.
pub trait KeyObserver: Send + Sync {
    /// The key waits for a touch: tell the user to touch it (it usually blinks).
    fn touch_requested(&self) {}
    /// The key is busy with the request.
    fn processing(&self) {}
    /// Fingerprint enrollment moved on: samples still needed and how the last one went.
    fn enrollment_progress(&self, _progress: &EnrollmentProgress) {}
}

/// An observer that ignores everything.
#[derive(Debug, Clone, Copy, Default)]
pub struct SilentObserver;

impl KeyObserver for SilentObserver {}

/// One step of a fingerprint enrollment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EnrollmentProgress {
    /// Good samples the key still needs; 0 when the fingerprint is enrolled.
    pub remaining_samples: u32,
    /// How the last sample went, if the key said.
    pub feedback: Option<SampleFeedback>,
}

/// How a fingerprint sample went (CTAP 2.1 §6.7.4 lastEnrollSampleStatus), as advice to the user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SampleFeedback {
    /// The sample was good.
    Good,
    /// Move the finger down, up, right or left, or hold it straight.
    Reposition,
    /// Swipe slower or faster.
    ChangeSpeed,
    /// The sample was unusable; try again.
    PoorQuality,
    /// This finger is already enrolled.
    AlreadyEnrolled,
    /// Nothing touched the sensor.
    NoTouch,
    /// Lift the finger and touch the sensor again.
    LiftAndTouchAgain,
}

impl SampleFeedback {
    fn from_status(status: &EnrollSampleStatus) -> Self {
        match status {
            EnrollSampleStatus::Good => Self::Good,
            EnrollSampleStatus::TooHigh
            | EnrollSampleStatus::TooLow
            | EnrollSampleStatus::TooLeft
            | EnrollSampleStatus::TooRight
            | EnrollSampleStatus::TooSkewed => Self::Reposition,
            EnrollSampleStatus::TooFast
            | EnrollSampleStatus::TooSlow
            | EnrollSampleStatus::TooShort => Self::ChangeSpeed,
            EnrollSampleStatus::PoorQuality | EnrollSampleStatus::MergeFailure => Self::PoorQuality,
            EnrollSampleStatus::AlreadyExists => Self::AlreadyEnrolled,
            EnrollSampleStatus::NoUserActivity => Self::NoTouch,
            EnrollSampleStatus::NoUserPresenceTransition => Self::LiftAndTouchAgain,
        }
    }

    /// A short instruction for the user.
    pub fn advice(self) -> &'static str {
        match self {
            Self::Good => "Good. Lift your finger and touch again.",
            Self::Reposition => "Place your finger flat in the middle of the sensor.",
            Self::ChangeSpeed => "Touch the sensor at a steady pace.",
            Self::PoorQuality => "That sample was unclear; touch again.",
            Self::AlreadyEnrolled => "This finger is already enrolled.",
            Self::NoTouch => "Touch the sensor.",
            Self::LiftAndTouchAgain => "Lift your finger and touch again.",
        }
    }
}

/// The `UiCallback` handed to webauthn-authenticator-rs for one operation.
pub(crate) struct UiBridge<'a> {
    pin: Option<&'a Pin>,
    observer: &'a dyn KeyObserver,
}

impl<'a> UiBridge<'a> {
    pub(crate) fn new(pin: Option<&'a Pin>, observer: &'a dyn KeyObserver) -> Self {
        Self { pin, observer }
    }
}

impl fmt::Debug for UiBridge<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UiBridge")
            .field("pin", &self.pin.map(|_| "<redacted>"))
            .finish_non_exhaustive()
    }
}

impl UiCallback for UiBridge<'_> {
    fn request_pin(&self) -> Option<String> {
        // The library takes the PIN as a plain String; it lives only for this request.
        self.pin.map(|pin| pin.expose().to_owned())
    }

    fn request_touch(&self) {
        self.observer.touch_requested();
    }

    fn processing(&self) {
        self.observer.processing();
    }

    fn fingerprint_enrollment_feedback(
        &self,
        remaining_samples: u32,
        feedback: Option<EnrollSampleStatus>,
    ) {
        self.observer.enrollment_progress(&EnrollmentProgress {
            remaining_samples,
            feedback: feedback.as_ref().map(SampleFeedback::from_status),
        });
    }

    fn cable_qr_code(&self, _request_type: CableRequestType, _url: String) {}

    fn dismiss_qr_code(&self) {}

    fn cable_status_update(&self, _state: CableState) {}
}
