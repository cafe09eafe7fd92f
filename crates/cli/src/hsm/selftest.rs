//! `schild hsm test`: proves a token can do what Schild asks of it, with temporary keys that are
//! deleted afterwards whatever happens.

use super::explain;
use anyhow::{bail, ensure};
use schild_hwkey::hsm::{HsmError, KeyKind, KeyLabel, Token};

const DATA_KEY: &[u8; 32] = b"schild self-test data key 32 B!!";
const AAD: &[u8] = b"schild self-test";
const MESSAGE: &[u8] = b"schild self-test message";

/// Runs every step, printing each as it finishes; fails when any step failed.
pub fn run(token: &Token) -> anyhow::Result<()> {
    println!(
        "Self-test of token {:?} in slot {} ({}):",
        token.label(),
        token.slot_id(),
        token.module().path().display()
    );
    let run_id = uuid::Uuid::new_v4().simple().to_string();
    let mut report = Report::default();
    let mut made = Vec::new();
    for kind in KeyKind::ALL {
        let label =
            KeyLabel::new(format!("schild-selftest-{}-{kind}", &run_id[..8])).map_err(explain)?;
        let step = format!("generate {} key", kind.describe());
        match token.generate(kind, &label) {
            Ok(_) => {
                report.ok(&step);
                made.push((kind, label));
            }
            Err(HsmError::UnsupportedMechanism { mechanism }) if kind == KeyKind::Ed25519 => {
                report.skipped(&step, &format!("the token does not offer {mechanism}"));
            }
            Err(error) => report.failed(&step, &error.to_string()),
        }
    }
    let key = |wanted: KeyKind| {
        made.iter()
            .find(|(kind, _)| *kind == wanted)
            .map(|(_, label)| label)
    };
    if let Some(kek) = key(KeyKind::Aes256) {
        report.step("wrap and unwrap a data key", || {
            let blob = token.wrap(kek, DATA_KEY, AAD)?;
            ensure!(
                token.unwrap(kek, &blob, AAD)?.as_slice() == DATA_KEY,
                "the unwrapped key differs"
            );
            Ok(())
        });
        report.step("refuse the wrong AAD", || {
            let blob = token.wrap(kek, DATA_KEY, AAD)?;
            expect_refusal(token.unwrap(kek, &blob, b"another context"))
        });
        report.step("refuse a tampered blob", || {
            let mut blob = token.wrap(kek, DATA_KEY, AAD)?;
            if let Some(last) = blob.last_mut() {
                *last ^= 0x01;
            }
            expect_refusal(token.unwrap(kek, &blob, AAD))
        });
    }
    for kind in [KeyKind::P256, KeyKind::Ed25519] {
        let Some(signer) = key(kind) else { continue };
        report.step(&format!("sign and verify with {}", kind.describe()), || {
            let signature = token.sign(signer, MESSAGE)?;
            token.verify(signer, MESSAGE, &signature)?;
            match token.verify(signer, b"another message", &signature) {
                Err(HsmError::BadSignature) => Ok(()),
                Ok(()) => bail!("a signature verified over another message"),
                Err(error) => Err(error.into()),
            }
        });
    }
    for (kind, label) in &made {
        report.step(&format!("delete the {} key", kind.describe()), || {
            Ok(token.delete_key(label)?)
        });
    }
    report.finish()
}

/// Unwrapping must fail as unauthentic, never return bytes.
fn expect_refusal(outcome: Result<impl Sized, HsmError>) -> anyhow::Result<()> {
    match outcome {
        Err(HsmError::Unauthentic) => Ok(()),
        Ok(_) => bail!("the token returned plaintext"),
        Err(error) => Err(error.into()),
    }
}

#[derive(Default)]
struct Report {
    passed: usize,
    failed: usize,
    skipped: usize,
}

impl Report {
    fn step(&mut self, name: &str, check: impl FnOnce() -> anyhow::Result<()>) {
        match check() {
            Ok(()) => self.ok(name),
            Err(error) => self.failed(name, &format!("{error:#}")),
        }
    }

    fn ok(&mut self, name: &str) {
        self.passed += 1;
        println!("  {name:.<40} ok");
    }

    fn failed(&mut self, name: &str, why: &str) {
        self.failed += 1;
        println!("  {name:.<40} FAILED: {why}");
    }

    fn skipped(&mut self, name: &str, why: &str) {
        self.skipped += 1;
        println!("  {name:.<40} skipped: {why}");
    }

    fn finish(self) -> anyhow::Result<()> {
        let total = self.passed + self.failed + self.skipped;
        if self.failed > 0 {
            bail!("{} of {total} self-test steps failed", self.failed);
        }
        match self.skipped {
            0 => println!("All {total} steps passed."),
            skipped => println!("{} steps passed, {skipped} skipped.", self.passed),
        }
        Ok(())
    }
}
