//! `schild vault rotate` killed with SIGKILL at random moments, many times: after every kill,
//! every item still opens with its value, and a last run finishes the rotation.
//!
//! Half the kills come at a random time after the start (they may land while unlocking or while
//! beginning the rotation); the other half come a random moment after a random batch reported
//! its progress, so some kills are sure to land inside a rotation however loaded the machine is.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use rand::{RngExt as _, SeedableRng as _};
use schild_core::clock::SystemClock;
use schild_core::vault::{PassphraseParams, RotationPolicy, derive_kek};
use schild_store::Store;
use schild_vault::{NewVault, RotationState, UnlockParams, UnlockedVault};
use std::io::{BufRead as _, BufReader};
use std::process::{Child, ChildStderr, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

const PASSPHRASE: &str = "a long enough test passphrase";
const ITEMS: usize = 2_000;
const KILLS: usize = 15;

fn value(i: usize) -> Vec<u8> {
    format!("secret value number {i} {}", "x".repeat(i % 50)).into_bytes()
}

async fn unlock(store: &Store) -> UnlockedVault {
    let methods = schild_vault::unlock_methods(store, "kit").await.unwrap();
    let (salt, cost) = methods[0].params.passphrase_inputs().unwrap();
    let key = derive_kek("passphrase:recovery", PASSPHRASE.as_bytes(), &salt, cost).unwrap();
    UnlockedVault::unlock(
        store.clone(),
        Arc::new(SystemClock),
        "kit",
        "recovery",
        &key,
    )
    .await
    .unwrap()
}

async fn every_item_opens(store: &Store) {
    let vault = unlock(store).await;
    for i in 0..ITEMS {
        let got = vault
            .get(&format!("item-{i:05}"))
            .await
            .unwrap_or_else(|error| panic!("item {i} does not open after a kill: {error}"));
        assert_eq!(got.as_slice(), value(i), "item {i}");
    }
}

/// Blocks until the child has reported `batches` re-wrapped batches (or has ended). Returns the
/// open pipe: closing it before the kill would make the child's next progress line fail.
fn wait_for_batches(child: &mut Child, batches: usize) -> BufReader<ChildStderr> {
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut seen = 0;
    let mut line = String::new();
    while seen < batches {
        line.clear();
        match stderr.read_line(&mut line) {
            Ok(0) | Err(_) => break,
            Ok(_) if line.starts_with("re-wrapping to KEK") => seen += 1,
            Ok(_) => {}
        }
    }
    stderr
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotation_killed_at_random_moments_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("local.db").display());
    let store = Store::connect(&url).await.unwrap();
    // A cheap Argon2 cost keeps each of the many unlocks quick; the cost is not what is tested.
    let cheap = PassphraseParams {
        memory_kib: 1024,
        passes: 1,
        lanes: 1,
    };
    let params = UnlockParams::new_passphrase(cheap, &mut rand::rng());
    let (salt, cost) = params.passphrase_inputs().unwrap();
    let key = derive_kek("passphrase:recovery", PASSPHRASE.as_bytes(), &salt, cost).unwrap();
    let vault = UnlockedVault::init(
        store.clone(),
        Arc::new(SystemClock),
        NewVault {
            id: "kit",
            name: "Offline kit",
            rotation: RotationPolicy::default(),
            auto_lock: time::Duration::minutes(5),
        },
        "recovery",
        "recovery passphrase",
        &params,
        &key,
    )
    .await
    .unwrap();
    for i in 0..ITEMS {
        vault
            .put(&format!("item-{i:05}"), "test", &value(i), false)
            .await
            .unwrap();
    }
    drop(vault);

    let seed: u64 = rand::rng().random();
    eprintln!("kill timings seed: {seed}");
    let mut timings = rand::rngs::StdRng::seed_from_u64(seed);
    let rotate = || {
        Command::new(env!("CARGO_BIN_EXE_schild"))
            .args(["vault", "--vault", "kit", "rotate", "--batch", "40"])
            .env("SCHILD_VAULT_DATABASE_URL", &url)
            .env("SCHILD_VAULT_PASSPHRASE", PASSPHRASE)
            .env("SCHILD_DATA_DIR", dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let mut killed_mid_rotation = 0;
    for round in 0..KILLS {
        let mut child = rotate();
        let pipe = if round % 2 == 0 {
            std::thread::sleep(Duration::from_millis(timings.random_range(0..400)));
            None
        } else {
            // 50 batches in all: at most two per kill leaves the rotation unfinished throughout.
            let pipe = wait_for_batches(&mut child, timings.random_range(1..=2));
            std::thread::sleep(Duration::from_micros(timings.random_range(0..5_000)));
            Some(pipe)
        };
        child.kill().unwrap(); // SIGKILL: no unwinding, no destructors, no commit
        drop(pipe);
        child.wait().unwrap();
        let status = schild_vault::status(&store, "kit", time::OffsetDateTime::now_utc())
            .await
            .unwrap();
        if status.rotation == RotationState::Unfinished {
            killed_mid_rotation += 1;
        }
        every_item_opens(&store).await;
    }
    assert!(
        killed_mid_rotation > 0,
        "no kill landed inside a rotation; the timings need adjusting"
    );

    let finished = rotate().wait().unwrap();
    assert!(finished.success());
    let status = schild_vault::status(&store, "kit", time::OffsetDateTime::now_utc())
        .await
        .unwrap();
    assert_eq!(status.rotation, RotationState::UpToDate);
    assert_eq!(status.versions.len(), 1);
    assert_eq!(status.items, ITEMS as u64);
    every_item_opens(&store).await;
}
