//! The authenticator itself: state, command dispatch and persistence.

use std::{collections::VecDeque, io::Write, path::PathBuf, sync::Arc, time::Duration};

use p256::SecretKey;
use zeroize::Zeroizing;

use super::{
    Presence, SampleStatus,
    cbor::{MAX_MESSAGE_SIZE, Reply},
    clock::Clock,
    pin_protocol::{PinProtocol, new_p256_key},
    state::KeyState,
    status::{CtapResult, Status},
};

/// CTAP 2.1 §6 command codes.
pub(crate) mod command {
    pub(crate) const MAKE_CREDENTIAL: u8 = 0x01;
    pub(crate) const GET_ASSERTION: u8 = 0x02;
    pub(crate) const GET_INFO: u8 = 0x04;
    pub(crate) const CLIENT_PIN: u8 = 0x06;
    pub(crate) const RESET: u8 = 0x07;
    pub(crate) const GET_NEXT_ASSERTION: u8 = 0x08;
    pub(crate) const BIO_ENROLLMENT: u8 = 0x09;
    pub(crate) const CREDENTIAL_MANAGEMENT: u8 = 0x0a;
    pub(crate) const SELECTION: u8 = 0x0b;
    pub(crate) const CONFIG: u8 = 0x0d;
}

/// pinUvAuthToken permissions (CTAP 2.1 §6.5.5.7).
pub(crate) mod permission {
    pub(crate) const MAKE_CREDENTIAL: u8 = 0x01;
    pub(crate) const GET_ASSERTION: u8 = 0x02;
    pub(crate) const CREDENTIAL_MANAGEMENT: u8 = 0x04;
    pub(crate) const BIO_ENROLLMENT: u8 = 0x08;
    pub(crate) const AUTHENTICATOR_CONFIG: u8 = 0x20;
}

/// How long a pinUvAuthToken stays usable (CTAP 2.1 §6.5.2.1 maximum usage time: we pick 10 min).
const TOKEN_LIFETIME: Duration = Duration::from_secs(600);

/// Fixed configuration chosen when the key is built.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    pub(crate) protocols: Vec<PinProtocol>,
    pub(crate) enroll_samples: u8,
    pub(crate) discoverable_by_default: bool,
}

/// Test hooks: what the simulated user does.
#[derive(Debug, Clone)]
pub(crate) struct UserSimulation {
    pub(crate) presence: Presence,
    pub(crate) finger_matches: bool,
    pub(crate) enrollment_feedback: VecDeque<SampleStatus>,
}

/// A pinUvAuthToken as issued (CTAP 2.1 §6.5.2.1 pinUvAuthToken state).
pub(crate) struct PinToken {
    pub(crate) secret: Zeroizing<Vec<u8>>,
    pub(crate) permissions: u8,
    pub(crate) rp_id: Option<String>,
    pub(crate) issued_at: Duration,
}

/// Multi-step operations in progress.
#[derive(Default)]
pub(crate) struct Pending {
    pub(crate) assertions: Option<super::credentials::PendingAssertions>,
    pub(crate) rps: Option<VecDeque<(String, Option<String>)>>,
    pub(crate) credentials: Option<VecDeque<Vec<u8>>>,
    pub(crate) enrollment: Option<Enrollment>,
}

pub(crate) struct Enrollment {
    pub(crate) template_id: Vec<u8>,
    pub(crate) remaining: u8,
}

/// State lost on power-down (CTAP 2.1 §6.5.5.1: regenerated at power-up).
pub(crate) struct Volatile {
    pub(crate) key_agreement: SecretKey,
    pub(crate) token: Option<PinToken>,
    pub(crate) consecutive_pin_failures: u8,
    pub(crate) powered_at: Duration,
    pub(crate) pending: Pending,
}

impl Volatile {
    fn power_up(now: Duration) -> Self {
        Self {
            key_agreement: new_p256_key(),
            token: None,
            consecutive_pin_failures: 0,
            powered_at: now,
            pending: Pending::default(),
        }
    }
}

pub(crate) struct Device {
    pub(crate) state: KeyState,
    pub(crate) volatile: Volatile,
    pub(crate) settings: Settings,
    pub(crate) user: UserSimulation,
    pub(crate) clock: Arc<dyn Clock>,
    path: Option<PathBuf>,
    saved: Option<Vec<u8>>,
}

impl Device {
    pub(crate) fn new(
        state: KeyState,
        settings: Settings,
        user: UserSimulation,
        clock: Arc<dyn Clock>,
        path: Option<PathBuf>,
    ) -> Self {
        let now = clock.now();
        let saved = path.as_ref().and_then(|_| serde_json::to_vec(&state).ok());
        Self {
            state,
            volatile: Volatile::power_up(now),
            settings,
            user,
            clock,
            path,
            saved,
        }
    }

    pub(crate) fn now(&self) -> Duration {
        self.clock.now()
    }

    /// Unplug and plug in again: volatile state is lost, the reset window reopens.
    pub(crate) fn power_cycle(&mut self) {
        self.volatile = Volatile::power_up(self.now());
    }

    /// Runs one CTAP command: `request` is the command byte and its CBOR map; the reply is the status
    /// byte followed, on success, by the reply map.
    pub(crate) fn handle(&mut self, request: &[u8], prompt: &dyn Fn()) -> Vec<u8> {
        let Some((&command, body)) = request.split_first() else {
            return vec![Status::InvalidLength as u8];
        };
        if request.len() > MAX_MESSAGE_SIZE {
            return vec![Status::RequestTooLarge as u8];
        }
        // Continuation commands must follow their "begin" directly (CTAP 2.1 §6.2.2, §6.8.3).
        if command != command::GET_NEXT_ASSERTION {
            self.volatile.pending.assertions = None;
        }
        if command != command::CREDENTIAL_MANAGEMENT {
            self.volatile.pending.rps = None;
            self.volatile.pending.credentials = None;
        }
        let result = match command {
            command::MAKE_CREDENTIAL => self.make_credential(body, prompt),
            command::GET_ASSERTION => self.get_assertion(body, prompt),
            command::GET_INFO => self.get_info(),
            command::CLIENT_PIN => self.client_pin(body, prompt),
            command::RESET => self.reset(prompt),
            command::GET_NEXT_ASSERTION => self.get_next_assertion(),
            command::BIO_ENROLLMENT => self.bio_enrollment(body, prompt),
            command::CREDENTIAL_MANAGEMENT => self.credential_management(body),
            command::SELECTION => self.selection(prompt),
            command::CONFIG => self.config(body),
            _ => Err(Status::InvalidCommand),
        };
        let reply = result.and_then(Reply::encode);
        // Failed commands change state too (a wrong PIN costs a retry), so save either way.
        if let Err(status) = self.save_if_changed() {
            return vec![status as u8];
        }
        match reply {
            Ok(body) => {
                let mut out = Vec::with_capacity(body.len() + 1);
                out.push(Status::Ok as u8);
                out.extend_from_slice(&body);
                out
            }
            Err(status) => vec![status as u8],
        }
    }

    /// Asks the simulated user to touch the key.
    pub(crate) fn user_presence(&self, prompt: &dyn Fn()) -> CtapResult<()> {
        prompt();
        match self.user.presence {
            Presence::Touch => Ok(()),
            Presence::NoTouch => Err(Status::UserActionTimeout),
        }
    }

    /// Built-in user verification: a (simulated) enrolled finger on the sensor.
    pub(crate) fn built_in_uv(&mut self, prompt: &dyn Fn()) -> CtapResult<()> {
        if self.state.fingerprints.is_empty() {
            return Err(Status::InvalidOption);
        }
        if self.state.uv_retries == 0 {
            return Err(Status::UvBlocked);
        }
        self.user_presence(prompt)?;
        if self.user.finger_matches {
            self.state.uv_retries = super::state::MAX_UV_RETRIES;
            Ok(())
        } else {
            self.state.uv_retries -= 1;
            Err(if self.state.uv_retries == 0 {
                Status::UvBlocked
            } else {
                Status::UvInvalid
            })
        }
    }

    /// Checks `pinUvAuthParam` over `message` against the current pinUvAuthToken, its permissions and
    /// its RP binding (CTAP 2.1 §6.5.5.7, §6.5.5.8). A token without an RP ID is bound to the first RP
    /// it is used for with `mc` or `ga`.
    pub(crate) fn check_token(
        &mut self,
        protocol: Option<u64>,
        param: &[u8],
        message: &[u8],
        permission: u8,
        rp_id: Option<&str>,
        allow_truncated: bool,
    ) -> CtapResult<()> {
        let protocol = self.protocol(protocol)?;
        let now = self.now();
        let token = self.volatile.token.as_mut().ok_or(Status::PinAuthInvalid)?;
        if now.saturating_sub(token.issued_at) > TOKEN_LIFETIME {
            self.volatile.token = None;
            return Err(Status::PinAuthInvalid);
        }
        protocol.verify(&token.secret, message, param, allow_truncated)?;
        if token.permissions & permission == 0 {
            return Err(Status::UnauthorizedPermission);
        }
        match (&token.rp_id, rp_id) {
            (Some(bound), Some(rp_id)) if bound != rp_id => {
                return Err(Status::UnauthorizedPermission);
            }
            (Some(_), None) if permission == permission::CREDENTIAL_MANAGEMENT => {
                return Err(Status::UnauthorizedPermission);
            }
            (None, Some(rp_id))
                if permission & (permission::MAKE_CREDENTIAL | permission::GET_ASSERTION) != 0 =>
            {
                token.rp_id = Some(rp_id.to_owned());
            }
            _ => {}
        }
        Ok(())
    }

    /// Resolves a `pinUvAuthProtocol` parameter to one this key supports.
    pub(crate) fn protocol(&self, protocol: Option<u64>) -> CtapResult<PinProtocol> {
        let protocol = PinProtocol::from_number(protocol.ok_or(Status::MissingParameter)?)?;
        if self.settings.protocols.contains(&protocol) {
            Ok(protocol)
        } else {
            Err(Status::InvalidParameter)
        }
    }

    fn save_if_changed(&mut self) -> CtapResult<()> {
        let Some(path) = self.path.clone() else {
            return Ok(());
        };
        let bytes = serde_json::to_vec_pretty(&self.state).map_err(|_| Status::Other)?;
        if self.saved.as_deref() == Some(bytes.as_slice()) {
            return Ok(());
        }
        write_atomically(&path, &bytes).map_err(|error| {
            tracing::error!(%error, path = %path.display(), "virtual key: saving state failed");
            Status::Other
        })?;
        self.saved = Some(bytes);
        Ok(())
    }
}

/// Writes `bytes` to a temporary file beside `path` (mode 0600: it holds private keys), flushes it
/// to disk and renames it over `path`, so a crash leaves either the old or the new state.
pub(crate) fn write_atomically(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    let directory = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or_else(|| std::path::Path::new("."));
    let file_name = path
        .file_name()
        .ok_or_else(|| std::io::Error::other("the virtual key path has no file name"))?;
    let mut temporary_name = std::ffi::OsString::from(".");
    temporary_name.push(file_name);
    temporary_name.push(format!(".{}.tmp", std::process::id()));
    let temporary = directory.join(temporary_name);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(&temporary)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    drop(file);
    std::fs::rename(&temporary, path)
}
