//! Rotation re-wrap rate: a SQLite vault of 100 000 items (the desktop's database) rotated to a
//! new KEK version in batches of 1 000, one transaction each. One measured run, printed as items
//! per second (a criterion loop would rebuild the 100 000 items for every sample).
//!
//! Run with `cargo bench -p schild-vault --bench rotation` (`ITEMS=…` to change the count).
#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    reason = "fixed benchmark set-up; a failure there is a bug to see"
)]

use schild_core::clock::SystemClock;
use schild_core::vault::{LocalKek, RotationPolicy};
use schild_store::Store;
use schild_vault::{NewVault, UnlockParams, UnlockedVault};
use std::sync::Arc;
use std::time::Instant;
use zeroize::Zeroizing;

#[tokio::main]
async fn main() {
    let items: usize = std::env::var("ITEMS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(100_000);
    let dir = tempfile::tempdir().unwrap();
    let store = Store::connect(&format!(
        "sqlite://{}",
        dir.path().join("bench.db").display()
    ))
    .await
    .unwrap();
    let key = LocalKek::new("bench:method", Zeroizing::new([3; 32])).unwrap();
    let params = UnlockParams::Keyring {
        backend: "in-memory".into(),
        service: "bench".into(),
        entry: "bench".into(),
    };
    let vault = UnlockedVault::init(
        store,
        Arc::new(SystemClock),
        NewVault {
            id: "bench",
            name: "bench",
            rotation: RotationPolicy::default(),
            auto_lock: time::Duration::hours(1),
        },
        "method",
        "method",
        &params,
        &key,
    )
    .await
    .unwrap();
    let started = Instant::now();
    for i in 0..items {
        vault
            .put(&format!("item-{i:06}"), "bench", &[i as u8; 64], false)
            .await
            .unwrap();
    }
    let filled = started.elapsed();
    println!(
        "stored {items} items in {:.1} s ({:.0} puts/s, one transaction each)",
        filled.as_secs_f64(),
        items as f64 / filled.as_secs_f64()
    );

    let started = Instant::now();
    let report = vault.rotate(1_000, |_| {}).await.unwrap();
    let took = started.elapsed();
    assert_eq!(report.rewrapped, items as u64);
    println!(
        "rotation re-wrapped {items} items in {:.2} s: {:.0} items/s (batches of 1 000)",
        took.as_secs_f64(),
        items as f64 / took.as_secs_f64()
    );
}
