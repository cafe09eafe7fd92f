//! Talking to the person at the key: PIN prompts, touch prompts and fingerprint progress.

use anyhow::{Context, bail};
use schild_hwkey::ctap::{EnrollmentProgress, KeyObserver, Pin};
use std::io::{BufRead, Write};

/// Prints the key's prompts on stderr, so stdout stays the command's result.
#[derive(Debug)]
pub struct ConsoleObserver;

impl KeyObserver for ConsoleObserver {
    fn touch_requested(&self) {
        eprintln!("Touch the key now.");
    }

    fn enrollment_progress(&self, progress: &EnrollmentProgress) {
        let advice = progress.feedback.map(|feedback| feedback.advice());
        let left = progress.remaining_samples;
        let samples = if left == 1 { "sample" } else { "samples" };
        match advice {
            _ if left == 0 => eprintln!("Fingerprint captured."),
            Some(advice) => eprintln!("{advice} ({left} {samples} to go)"),
            None => eprintln!("Sample taken; lift and touch again ({left} {samples} to go)."),
        }
    }
}

/// A PIN from the environment variable `env` (for scripts), else typed at the terminal without
/// echo; `confirm` asks twice.
pub fn read_pin(env: &str, label: &str, confirm: bool) -> anyhow::Result<Pin> {
    if let Ok(value) = std::env::var(env) {
        return Pin::new(value).map_err(super::explain);
    }
    let first = rpassword::prompt_password(format!("{label}: "))
        .with_context(|| format!("cannot read the {label} (set {env} when not on a terminal)"))?;
    if confirm {
        let second = rpassword::prompt_password(format!("{label} again: "))
            .context("cannot read the PIN confirmation")?;
        if first != second {
            bail!("the two PINs differ; nothing was changed");
        }
    }
    Pin::new(first).map_err(super::explain)
}

/// One line typed at the terminal (or piped on stdin).
pub fn read_line(prompt: &str) -> anyhow::Result<String> {
    eprint!("{prompt}");
    std::io::stderr().flush().ok();
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(line)
}
