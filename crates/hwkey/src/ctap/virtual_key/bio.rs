//! authenticatorBioEnrollment (CTAP 2.1 §6.7) with a simulated fingerprint sensor: every capture
//! succeeds after the configured number of samples, except for queued feedback the tests inject.

use serde_cbor_2::Value;

use super::{
    SampleStatus,
    cbor::{self, Params, Reply},
    device::{Device, Enrollment, permission},
    pin_protocol::random_bytes,
    state::{Fingerprint, MAX_FINGERPRINTS},
    status::{CtapResult, Status},
};

const MODALITY_FINGERPRINT: u64 = 0x01;
const FINGERPRINT_KIND_TOUCH: u64 = 0x01;
/// Longest friendly name in bytes (CTAP 2.1 §6.7.2 maxTemplateFriendlyName).
const MAX_FRIENDLY_NAME: usize = 64;

mod sub {
    pub(super) const ENROLL_BEGIN: u64 = 0x01;
    pub(super) const ENROLL_CAPTURE_NEXT: u64 = 0x02;
    pub(super) const CANCEL_ENROLLMENT: u64 = 0x03;
    pub(super) const ENUMERATE: u64 = 0x04;
    pub(super) const SET_FRIENDLY_NAME: u64 = 0x05;
    pub(super) const REMOVE: u64 = 0x06;
    pub(super) const SENSOR_INFO: u64 = 0x07;
}

impl Device {
    pub(crate) fn bio_enrollment(&mut self, body: &[u8], prompt: &dyn Fn()) -> CtapResult<Reply> {
        let mut params = Params::parse(body)?;
        if params.boolean(0x06)? == Some(true) {
            return Ok(Reply::new().with(0x01, MODALITY_FINGERPRINT));
        }
        let modality = params.uint(0x01)?.ok_or(Status::MissingParameter)?;
        if modality != MODALITY_FINGERPRINT {
            return Err(Status::InvalidParameter);
        }
        let sub_command = params.uint(0x02)?.ok_or(Status::MissingParameter)?;
        let sub_params = params.take(0x03);
        let protocol = params.uint(0x04)?;
        let auth_param = params.bytes(0x05)?;

        match sub_command {
            sub::SENSOR_INFO => {
                return Ok(Reply::new()
                    .with(0x02, FINGERPRINT_KIND_TOUCH)
                    .with(0x03, u64::from(self.settings.enroll_samples))
                    .with(0x08, MAX_FRIENDLY_NAME as u64));
            }
            sub::CANCEL_ENROLLMENT => {
                self.volatile.pending.enrollment = None;
                return Ok(Reply::new());
            }
            sub::ENROLL_BEGIN
            | sub::ENROLL_CAPTURE_NEXT
            | sub::ENUMERATE
            | sub::SET_FRIENDLY_NAME
            | sub::REMOVE => {}
            _ => return Err(Status::InvalidSubcommand),
        }

        // pinUvAuthParam = authenticate(token, modality || subCommand || subCommandParams).
        let auth_param = auth_param.ok_or(Status::PuatRequired)?;
        let mut message = vec![
            u8::try_from(modality).map_err(|_| Status::Other)?,
            u8::try_from(sub_command).map_err(|_| Status::Other)?,
        ];
        if let Some(sub_params) = &sub_params {
            message.extend_from_slice(&cbor::canonical(sub_params)?);
        }
        self.check_token(
            protocol,
            &auth_param,
            &message,
            permission::BIO_ENROLLMENT,
            None,
            true,
        )?;
        let mut sub_params = match sub_params {
            Some(value) => Params::from_value(value)?,
            None => Params::default(),
        };

        match sub_command {
            sub::ENROLL_BEGIN => self.enroll_begin(prompt),
            sub::ENROLL_CAPTURE_NEXT => {
                let template_id = sub_params.bytes(0x01)?.ok_or(Status::MissingParameter)?;
                self.enroll_capture(&template_id, prompt)
            }
            sub::ENUMERATE => {
                if self.state.fingerprints.is_empty() {
                    return Err(Status::InvalidOption);
                }
                let infos = self
                    .state
                    .fingerprints
                    .iter()
                    .map(|f| {
                        let mut info = Reply::new().with(0x01, Value::Bytes(f.template_id.clone()));
                        if let Some(name) = &f.friendly_name {
                            info.set(0x02, Value::Text(name.clone()));
                        }
                        info.into_value()
                    })
                    .collect();
                Ok(Reply::new().with(0x07, Value::Array(infos)))
            }
            sub::SET_FRIENDLY_NAME => {
                let template_id = sub_params.bytes(0x01)?.ok_or(Status::MissingParameter)?;
                let name = sub_params.text(0x02)?.ok_or(Status::MissingParameter)?;
                if name.len() > MAX_FRIENDLY_NAME {
                    return Err(Status::InvalidParameter);
                }
                let fingerprint = self
                    .state
                    .fingerprints
                    .iter_mut()
                    .find(|f| f.template_id == template_id)
                    .ok_or(Status::InvalidOption)?;
                fingerprint.friendly_name = Some(name);
                Ok(Reply::new())
            }
            _ => {
                let template_id = sub_params.bytes(0x01)?.ok_or(Status::MissingParameter)?;
                let before = self.state.fingerprints.len();
                self.state
                    .fingerprints
                    .retain(|f| f.template_id != template_id);
                if self.state.fingerprints.len() == before {
                    return Err(Status::InvalidOption);
                }
                Ok(Reply::new())
            }
        }
    }

    fn enroll_begin(&mut self, prompt: &dyn Fn()) -> CtapResult<Reply> {
        if self.state.fingerprints.len() >= MAX_FINGERPRINTS {
            return Err(Status::FingerprintDatabaseFull);
        }
        let template_id = random_bytes(4);
        self.volatile.pending.enrollment = Some(Enrollment {
            template_id: template_id.clone(),
            remaining: self.settings.enroll_samples,
        });
        let mut reply = self.capture_sample(prompt)?;
        reply.set(0x04, Value::Bytes(template_id));
        Ok(reply)
    }

    fn enroll_capture(&mut self, template_id: &[u8], prompt: &dyn Fn()) -> CtapResult<Reply> {
        match &self.volatile.pending.enrollment {
            Some(enrollment) if enrollment.template_id == template_id => {}
            _ => return Err(Status::InvalidParameter),
        }
        self.capture_sample(prompt)
    }

    /// One touch on the simulated sensor: a good sample brings the enrollment one step closer.
    fn capture_sample(&mut self, prompt: &dyn Fn()) -> CtapResult<Reply> {
        self.user_presence(prompt)?;
        let status = self
            .user
            .enrollment_feedback
            .pop_front()
            .unwrap_or(SampleStatus::Good);
        let enrollment = self
            .volatile
            .pending
            .enrollment
            .as_mut()
            .ok_or(Status::NotAllowed)?;
        if status == SampleStatus::Good {
            enrollment.remaining = enrollment.remaining.saturating_sub(1);
        }
        let remaining = enrollment.remaining;
        if remaining == 0 {
            let template_id = enrollment.template_id.clone();
            self.volatile.pending.enrollment = None;
            self.state.fingerprints.push(Fingerprint {
                template_id,
                friendly_name: None,
            });
        }
        Ok(Reply::new()
            .with(0x05, u64::from(status as u8))
            .with(0x06, u64::from(remaining)))
    }
}
