//! The vault over a real database, SQLite and PostgreSQL: unlock methods, items, auto-lock,
//! rotation (including one interrupted after a batch), and what deletion leaves behind.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use schild_core::clock::{Clock, ManualClock};
use schild_core::provider::KeyEncryptionKey;
use schild_core::vault::{LocalKek, PassphraseParams, RotationPolicy, derive_kek};
use schild_store::testing::TestDb;
use schild_vault::{Error, NewVault, RotationState, UnlockParams, UnlockedVault};
use std::sync::Arc;
use time::{Duration, OffsetDateTime};
use zeroize::Zeroizing;

fn clock() -> Arc<ManualClock> {
    Arc::new(ManualClock::new(
        OffsetDateTime::UNIX_EPOCH + Duration::days(20_000),
    ))
}

fn method_key(byte: u8) -> LocalKek {
    LocalKek::new(format!("test-method-{byte}"), Zeroizing::new([byte; 32])).unwrap()
}

fn keyring_params(entry: &str) -> UnlockParams {
    UnlockParams::Keyring {
        backend: "in-memory".into(),
        service: "schild-test".into(),
        entry: entry.into(),
    }
}

/// Unlocks the vault again with its first method (after a lock or a "restart").
async fn reopen(db: &TestDb, clock: &Arc<ManualClock>) -> UnlockedVault {
    UnlockedVault::unlock(
        db.store().clone(),
        clock.clone(),
        "laptop",
        "primary",
        &method_key(1),
    )
    .await
    .unwrap()
}

const NEW: NewVault<'static> = NewVault {
    id: "laptop",
    name: "Laptop vault",
    rotation: RotationPolicy {
        interval: Duration::days(90),
    },
    auto_lock: Duration::minutes(5),
};

async fn new_vault(db: &TestDb, clock: &Arc<ManualClock>) -> UnlockedVault {
    UnlockedVault::init(
        db.store().clone(),
        clock.clone(),
        NEW,
        "primary",
        "primary key",
        &keyring_params("primary"),
        &method_key(1),
    )
    .await
    .unwrap()
}

async fn items_round_trip_and_bad_input_changes_nothing(db: &TestDb) {
    let clock = clock();
    let vault = new_vault(db, &clock).await;
    vault
        .put("backend-token", "backend-credential", b"s3cret", false)
        .await
        .unwrap();
    vault
        .put("evidence-key", "evidence-key", &[7u8; 32], false)
        .await
        .unwrap();
    assert_eq!(
        vault.get("backend-token").await.unwrap().as_slice(),
        b"s3cret"
    );

    assert!(matches!(
        vault
            .put("backend-token", "backend-credential", b"other", false)
            .await,
        Err(Error::ItemExists(_))
    ));
    assert!(matches!(
        vault.put("", "backend-credential", b"x", false).await,
        Err(Error::InvalidName { .. })
    ));
    assert!(matches!(
        vault.put("bad\nname", "p", b"x", false).await,
        Err(Error::InvalidName { .. })
    ));
    assert!(matches!(
        vault.get("missing").await,
        Err(Error::NoSuchItem(_))
    ));
    assert_eq!(
        vault.get("backend-token").await.unwrap().as_slice(),
        b"s3cret"
    );

    vault
        .put("backend-token", "backend-credential", b"rotated", true)
        .await
        .unwrap();
    assert_eq!(
        vault.get("backend-token").await.unwrap().as_slice(),
        b"rotated"
    );
    let names: Vec<String> = vault
        .list()
        .await
        .unwrap()
        .into_iter()
        .map(|i| i.name)
        .collect();
    assert_eq!(names, ["backend-token", "evidence-key"]);

    vault.remove("evidence-key").await.unwrap();
    assert!(matches!(
        vault.remove("evidence-key").await,
        Err(Error::NoSuchItem(_))
    ));
    assert!(matches!(
        vault.get("evidence-key").await,
        Err(Error::NoSuchItem(_))
    ));

    assert!(matches!(
        UnlockedVault::init(
            db.store().clone(),
            clock.clone(),
            NEW,
            "again",
            "again",
            &keyring_params("again"),
            &method_key(9),
        )
        .await,
        Err(Error::VaultExists(_))
    ));
}

async fn each_unlock_method_opens_and_a_wrong_key_opens_nothing(db: &TestDb) {
    let clock = clock();
    let vault = new_vault(db, &clock).await;
    vault.put("item", "test", b"value", false).await.unwrap();

    // A recovery passphrase beside the first method (cheap Argon2 cost: this is not the KAT).
    let cheap = PassphraseParams {
        memory_kib: 1024,
        passes: 1,
        lanes: 1,
    };
    let params = UnlockParams::new_passphrase(cheap, &mut rand::rng());
    let (salt, cost) = params.passphrase_inputs().unwrap();
    let passphrase = derive_kek("passphrase:recovery", b"correct horse", &salt, cost).unwrap();
    vault
        .add_unlock_method("recovery", "recovery passphrase", &params, &passphrase)
        .await
        .unwrap();
    assert!(matches!(
        vault
            .add_unlock_method("recovery", "again", &params, &passphrase)
            .await,
        Err(Error::UnlockMethodExists(_))
    ));
    drop(vault);

    for (method, key) in [
        ("primary", &method_key(1) as &dyn KeyEncryptionKey),
        ("recovery", &passphrase),
    ] {
        let vault = UnlockedVault::unlock(db.store().clone(), clock.clone(), "laptop", method, key)
            .await
            .unwrap();
        assert_eq!(vault.get("item").await.unwrap().as_slice(), b"value");
    }

    let wrong = derive_kek("passphrase:recovery", b"wrong horse", &salt, cost).unwrap();
    assert!(matches!(
        UnlockedVault::unlock(
            db.store().clone(),
            clock.clone(),
            "laptop",
            "recovery",
            &wrong
        )
        .await,
        Err(Error::WrongUnlockKey)
    ));
    // The first method's key against the second method's wrap.
    assert!(matches!(
        UnlockedVault::unlock(
            db.store().clone(),
            clock.clone(),
            "laptop",
            "recovery",
            &method_key(1)
        )
        .await,
        Err(Error::WrongUnlockKey)
    ));
    assert!(matches!(
        UnlockedVault::unlock(
            db.store().clone(),
            clock.clone(),
            "nope",
            "primary",
            &method_key(1)
        )
        .await,
        Err(Error::NoSuchVault(_))
    ));

    let vault = reopen(db, &clock).await;
    vault.remove_unlock_method("recovery").await.unwrap();
    assert!(matches!(
        vault.remove_unlock_method("primary").await,
        Err(Error::LastUnlockMethod)
    ));
    assert!(matches!(
        vault.remove_unlock_method("recovery").await,
        Err(Error::NoSuchUnlockMethod(_))
    ));
}

async fn an_idle_vault_locks_itself(db: &TestDb) {
    let clock = clock();
    let vault = new_vault(db, &clock).await;
    vault.put("item", "test", b"value", false).await.unwrap();
    clock.advance(Duration::minutes(4));
    assert_eq!(vault.get("item").await.unwrap().as_slice(), b"value");
    clock.advance(Duration::minutes(4));
    assert!(vault.is_unlocked());
    clock.advance(Duration::minutes(2));
    assert!(matches!(vault.get("item").await, Err(Error::Locked)));
    assert!(matches!(vault.list().await, Err(Error::Locked)));
    assert!(!vault.is_unlocked());

    let vault = reopen(db, &clock).await;
    vault.lock();
    assert!(matches!(vault.get("item").await, Err(Error::Locked)));
}

async fn rotation_rewraps_every_item_and_retires_the_old_version(db: &TestDb) {
    let clock = clock();
    let vault = new_vault(db, &clock).await;
    for i in 0..120 {
        vault
            .put(
                &format!("item-{i:03}"),
                "test",
                format!("value {i}").as_bytes(),
                false,
            )
            .await
            .unwrap();
    }
    let status = schild_vault::status(db.store(), "laptop", clock.now())
        .await
        .unwrap();
    assert_eq!(status.rotation, RotationState::UpToDate);
    clock.advance(Duration::days(90));
    let status = schild_vault::status(db.store(), "laptop", clock.now())
        .await
        .unwrap();
    assert_eq!(status.rotation, RotationState::DueByAge);
    // Ninety days idle: the vault locked itself long ago.
    assert!(matches!(vault.rotate(50, |_| {}).await, Err(Error::Locked)));
    let vault = reopen(db, &clock).await;

    let mut reports = Vec::new();
    let report = vault.rotate(50, |p| reports.push(p)).await.unwrap();
    assert!(report.began);
    assert_eq!(report.version, 2);
    assert_eq!(report.rewrapped, 120);
    assert_eq!(report.retired, [1]);
    assert_eq!(
        reports.iter().map(|p| p.done).collect::<Vec<_>>(),
        [50, 100, 120]
    );
    assert!(reports.iter().all(|p| p.total == 120));

    let status = schild_vault::status(db.store(), "laptop", clock.now())
        .await
        .unwrap();
    assert_eq!(status.rotation, RotationState::UpToDate);
    assert_eq!(status.versions.len(), 1);
    assert_eq!(status.versions[0].version, 2);
    assert_eq!(status.versions[0].items, 120);
    assert_eq!(status.versions[0].wraps, 120);

    drop(vault);
    let vault = reopen(db, &clock).await;
    for i in 0..120 {
        assert_eq!(
            vault.get(&format!("item-{i:03}")).await.unwrap().as_slice(),
            format!("value {i}").as_bytes()
        );
    }
    // Data re-keying gives an item a fresh data key and keeps its value.
    vault.rekey("item-007").await.unwrap();
    assert_eq!(vault.get("item-007").await.unwrap().as_slice(), b"value 7");
}

async fn an_interrupted_rotation_resumes_and_loses_nothing(db: &TestDb) {
    let clock = clock();
    let vault = Arc::new(new_vault(db, &clock).await);
    for i in 0..30 {
        vault
            .put(&format!("item-{i:02}"), "test", &[i; 40], false)
            .await
            .unwrap();
    }
    // The process "dies" right after the first batch committed.
    let rotating = Arc::clone(&vault);
    let died = tokio::spawn(async move {
        rotating
            .rotate(10, |progress| {
                if progress.done == 10 {
                    panic!("killed after the first batch");
                }
            })
            .await
    })
    .await;
    assert!(died.is_err());
    drop(vault);

    let status = schild_vault::status(db.store(), "laptop", clock.now())
        .await
        .unwrap();
    assert_eq!(status.rotation, RotationState::Unfinished);
    assert_eq!(
        status
            .versions
            .iter()
            .map(|v| (v.version, v.items))
            .collect::<Vec<_>>(),
        [(1, 20), (2, 10)]
    );

    let vault = reopen(db, &clock).await;
    // Mid-rotation, every item opens and new items go to the new version.
    for i in 0..30 {
        assert_eq!(
            vault.get(&format!("item-{i:02}")).await.unwrap().as_slice(),
            &[i; 40]
        );
    }
    vault.put("late", "test", b"late", false).await.unwrap();
    let report = vault.rotate(10, |_| {}).await.unwrap();
    assert!(
        !report.began,
        "resumes instead of beginning another rotation"
    );
    assert_eq!(report.version, 2);
    assert_eq!(report.rewrapped, 20);
    assert_eq!(report.retired, [1]);
    for i in 0..30 {
        assert_eq!(
            vault.get(&format!("item-{i:02}")).await.unwrap().as_slice(),
            &[i; 40]
        );
    }
    assert_eq!(vault.get("late").await.unwrap().as_slice(), b"late");
}

async fn an_envelope_copied_to_another_item_does_not_open(db: &TestDb) {
    let clock = clock();
    let vault = new_vault(db, &clock).await;
    vault.put("a", "test", b"value of a", false).await.unwrap();
    vault.put("b", "test", b"value of b", false).await.unwrap();
    let mut conn = db.store().acquire().await.unwrap();
    let a = schild_store::vault::item_by_name(&mut conn, "laptop", "a")
        .await
        .unwrap()
        .unwrap();
    let b = schild_store::vault::item_by_name(&mut conn, "laptop", "b")
        .await
        .unwrap()
        .unwrap();
    assert!(
        schild_store::vault::replace_envelope(
            &mut conn,
            "laptop",
            &b.item.id,
            &b.envelope,
            &a.envelope,
            b.item.key_version,
            clock.now()
        )
        .await
        .unwrap()
    );
    drop(conn);
    assert!(matches!(
        vault.get("b").await,
        Err(Error::Crypto(schild_core::vault::VaultError::Unauthentic))
    ));
    assert_eq!(vault.get("a").await.unwrap().as_slice(), b"value of a");
}

async fn a_session_opens_until_idle_and_is_never_the_only_way_in(db: &TestDb) {
    let clock = clock();
    let vault = new_vault(db, &clock).await;
    vault.put("item", "test", b"value", false).await.unwrap();
    let session = UnlockParams::Session {
        service: "schild-test-session".into(),
        entry: "laptop.session".into(),
    };
    vault
        .add_unlock_method("session", "this login session", &session, &method_key(9))
        .await
        .unwrap();
    // With a session open, the lasting method cannot go: the vault would die with the session.
    assert!(matches!(
        vault.remove_unlock_method("primary").await,
        Err(Error::LastUnlockMethod)
    ));
    drop(vault);

    let opened = UnlockedVault::unlock(
        db.store().clone(),
        clock.clone(),
        "laptop",
        "session",
        &method_key(9),
    )
    .await
    .unwrap();
    assert_eq!(opened.get("item").await.unwrap().as_slice(), b"value");
    drop(opened);
    let methods = schild_vault::unlock_methods(db.store(), "laptop")
        .await
        .unwrap();
    let method = methods.iter().find(|m| m.id == "session").unwrap();
    assert!(!method.session_expired(NEW.auto_lock, clock.now()));
    clock.advance(NEW.auto_lock);
    assert!(method.session_expired(NEW.auto_lock, clock.now()));

    // Ending needs no unlocking, touches only sessions, and leaves the lasting method working.
    assert!(
        !schild_vault::end_session(db.store(), "laptop", "primary")
            .await
            .unwrap()
    );
    assert!(
        schild_vault::end_session(db.store(), "laptop", "session")
            .await
            .unwrap()
    );
    assert!(
        !schild_vault::end_session(db.store(), "laptop", "session")
            .await
            .unwrap()
    );
    assert!(matches!(
        UnlockedVault::unlock(
            db.store().clone(),
            clock.clone(),
            "laptop",
            "session",
            &method_key(9)
        )
        .await,
        Err(Error::NoSuchUnlockMethod(_))
    ));
    assert_eq!(
        reopen(db, &clock)
            .await
            .get("item")
            .await
            .unwrap()
            .as_slice(),
        b"value"
    );

    // A vault cannot begin with a session as its only method.
    let refused = UnlockedVault::init(
        db.store().clone(),
        clock.clone(),
        NewVault { id: "other", ..NEW },
        "session",
        "session",
        &session,
        &method_key(9),
    )
    .await;
    assert!(matches!(refused, Err(Error::LastUnlockMethod)));
    assert!(matches!(
        schild_vault::status(db.store(), "other", clock.now()).await,
        Err(Error::NoSuchVault(_))
    ));
}

schild_store::dual_backend_tests!(
    a_session_opens_until_idle_and_is_never_the_only_way_in,
    items_round_trip_and_bad_input_changes_nothing,
    each_unlock_method_opens_and_a_wrong_key_opens_nothing,
    an_idle_vault_locks_itself,
    rotation_rewraps_every_item_and_retires_the_old_version,
    an_interrupted_rotation_resumes_and_loses_nothing,
    an_envelope_copied_to_another_item_does_not_open,
);

/// SQLite runs with `secure_delete`, and a removal checkpoints the write-ahead log: the removed
/// item's ciphertext and wrapped data key are nowhere in the database files afterwards.
#[tokio::test]
async fn a_removed_item_leaves_no_ciphertext_in_the_sqlite_files() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("vault.db");
    let store = schild_store::Store::connect(&format!("sqlite://{}", path.display()))
        .await
        .unwrap();
    let clock = clock();
    let vault = UnlockedVault::init(
        store.clone(),
        clock.clone(),
        NEW,
        "primary",
        "primary key",
        &keyring_params("primary"),
        &method_key(1),
    )
    .await
    .unwrap();
    vault.put("keep", "test", b"kept", false).await.unwrap();
    vault
        .put("shred", "test", &[0xAB; 64], false)
        .await
        .unwrap();
    let envelope = {
        let mut conn = store.acquire().await.unwrap();
        schild_store::vault::item_by_name(&mut conn, "laptop", "shred")
            .await
            .unwrap()
            .unwrap()
            .envelope
    };
    // The last 32 bytes: ciphertext and tag, random-looking, found only where the row was.
    let needle = &envelope[envelope.len() - 32..];
    let files_contain = |needle: &[u8]| {
        std::fs::read_dir(dir.path()).unwrap().any(|entry| {
            let bytes = std::fs::read(entry.unwrap().path()).unwrap();
            bytes.windows(needle.len()).any(|w| w == needle)
        })
    };
    schild_store::vault::flush_deleted(&store).await.unwrap();
    assert!(files_contain(needle), "the test looks for the right bytes");

    vault.remove("shred").await.unwrap();
    assert!(!files_contain(needle));
    assert_eq!(vault.get("keep").await.unwrap().as_slice(), b"kept");
}
