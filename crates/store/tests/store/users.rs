//! Accounts.

use crate::common::{T0, add_user, new_user_id};
use schild_core::ids::Username;
use schild_store::StoreError;
use schild_store::testing::TestDb;
use schild_store::users::{self, NewUser};

fn alice() -> NewUser {
    NewUser {
        id: new_user_id(),
        username: Username::parse("Alice").unwrap(),
        display_name: "Alice Example".into(),
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$salt$hash".into(),
        roles: vec!["admin".into(), "user".into()],
        created_at: T0 + time::Duration::nanoseconds(123_456_789),
    }
}

async fn insert_and_read_back(db: &TestDb) {
    let mut conn = db.store().acquire().await.unwrap();
    let new = alice();
    users::insert(&mut conn, &new).await.unwrap();

    let by_id = users::by_id(&mut conn, new.id).await.unwrap().unwrap();
    assert_eq!(by_id.id, new.id);
    assert_eq!(by_id.username.as_str(), "alice");
    assert_eq!(by_id.display_name, "Alice Example");
    assert_eq!(by_id.password_hash, new.password_hash);
    assert_eq!(by_id.roles, vec!["admin", "user"]);
    assert!(!by_id.disabled);
    // Millisecond precision.
    assert_eq!(by_id.created_at, T0 + time::Duration::milliseconds(123));

    let by_name = users::by_username(&mut conn, &Username::parse("ALICE").unwrap())
        .await
        .unwrap();
    assert_eq!(by_name.as_ref(), Some(&by_id));
    assert!(
        users::by_username(&mut conn, &Username::parse("nobody").unwrap())
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        users::by_id(&mut conn, new_user_id())
            .await
            .unwrap()
            .is_none()
    );

    add_user(&mut conn, "bob").await;
    assert_eq!(users::count(&mut conn).await.unwrap(), 2);
    let names: Vec<_> = users::list(&mut conn)
        .await
        .unwrap()
        .into_iter()
        .map(|u| u.username)
        .collect();
    assert_eq!(
        names.iter().map(Username::as_str).collect::<Vec<_>>(),
        ["alice", "bob"]
    );

    let debug = format!("{by_id:?}");
    assert!(
        !debug.contains("argon2id"),
        "Debug must not show the hash: {debug}"
    );
}

async fn a_taken_username_is_reported_as_such(db: &TestDb) {
    let mut conn = db.store().acquire().await.unwrap();
    users::insert(&mut conn, &alice()).await.unwrap();
    // A different id, the same (case-folded) name.
    let err = users::insert(&mut conn, &alice()).await.unwrap_err();
    assert!(matches!(err, StoreError::UsernameTaken), "{err:?}");
    assert_eq!(users::count(&mut conn).await.unwrap(), 1);

    // Two concurrent sign-ups with the same name: exactly one wins.
    let store = db.store();
    let mut a = store.acquire().await.unwrap();
    let mut b = store.acquire().await.unwrap();
    let mut carol = alice();
    carol.username = Username::parse("carol").unwrap();
    let mut carol2 = carol.clone();
    carol2.id = new_user_id();
    let (ra, rb) = tokio::join!(
        users::insert(&mut a, &carol),
        users::insert(&mut b, &carol2)
    );
    assert_eq!(
        [ra.is_ok(), rb.is_ok()].iter().filter(|ok| **ok).count(),
        1,
        "exactly one insert must win: {ra:?} {rb:?}"
    );
    assert!(matches!(
        ra.err().or(rb.err()),
        Some(StoreError::UsernameTaken)
    ));
}

async fn a_duplicate_id_is_not_mistaken_for_a_taken_username(db: &TestDb) {
    let mut conn = db.store().acquire().await.unwrap();
    let first = alice();
    users::insert(&mut conn, &first).await.unwrap();
    let mut same_id = alice();
    same_id.id = first.id;
    same_id.username = Username::parse("other").unwrap();
    let err = users::insert(&mut conn, &same_id).await.unwrap_err();
    assert!(matches!(err, StoreError::Database(_)), "{err:?}");
}

async fn updates_change_one_account_and_report_unknown_ids(db: &TestDb) {
    let mut conn = db.store().acquire().await.unwrap();
    let alice = add_user(&mut conn, "alice").await;
    let bob = add_user(&mut conn, "bob").await;

    users::set_password_hash(&mut conn, alice, "$argon2id$new")
        .await
        .unwrap();
    users::set_roles(&mut conn, alice, &["admin".to_string()], T0)
        .await
        .unwrap();
    users::set_disabled(&mut conn, alice, true).await.unwrap();
    let a = users::by_id(&mut conn, alice).await.unwrap().unwrap();
    assert_eq!(
        (a.password_hash.as_str(), a.roles.as_slice(), a.disabled),
        ("$argon2id$new", &["admin".to_string()][..], true)
    );
    let b = users::by_id(&mut conn, bob).await.unwrap().unwrap();
    assert_eq!(
        (b.roles.as_slice(), b.disabled),
        (&["user".to_string()][..], false)
    );

    users::set_disabled(&mut conn, alice, false).await.unwrap();
    users::set_roles(&mut conn, alice, &[], T0).await.unwrap();
    let a = users::by_id(&mut conn, alice).await.unwrap().unwrap();
    assert!(!a.disabled && a.roles.is_empty());

    let ghost = new_user_id();
    assert!(matches!(
        users::set_password_hash(&mut conn, ghost, "x").await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        users::set_roles(&mut conn, ghost, &[], T0).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        users::set_disabled(&mut conn, ghost, true).await,
        Err(StoreError::NotFound)
    ));
}

async fn rows_that_do_not_parse_are_corrupt_not_a_panic(db: &TestDb) {
    let mut conn = db.store().acquire().await.unwrap();
    let id = add_user(&mut conn, "alice").await;

    sqlx::query(
        "INSERT INTO users (id, username, display_name, password_hash, disabled, created_at) \
         VALUES ('not-a-uuid', 'mallory', 'M', 'x', FALSE, 0)",
    )
    .execute(&mut *conn)
    .await
    .unwrap();
    let name = Username::parse("mallory").unwrap();
    assert!(
        matches!(users::by_username(&mut conn, &name).await, Err(StoreError::Corrupt { what }) if what == "users.id")
    );
    // One bad row spoils the listing, loudly.
    assert!(matches!(
        users::list(&mut conn).await,
        Err(StoreError::Corrupt { .. })
    ));

    sqlx::query("DELETE FROM users WHERE id = 'not-a-uuid'")
        .execute(&mut *conn)
        .await
        .unwrap();
    sqlx::query("UPDATE users SET username = 'NOT VALID!' WHERE id = $1")
        .bind(id.to_string())
        .execute(&mut *conn)
        .await
        .unwrap();
    assert!(matches!(
        users::by_id(&mut conn, id).await,
        Err(StoreError::Corrupt { what }) if what == "users.username"
    ));
    sqlx::query(
        "UPDATE users SET username = 'alice', created_at = 9223372036854775807 WHERE id = $1",
    )
    .bind(id.to_string())
    .execute(&mut *conn)
    .await
    .unwrap();
    assert!(
        matches!(users::by_id(&mut conn, id).await, Err(StoreError::Corrupt { what }) if what == "users.created_at")
    );
}

schild_store::dual_backend_tests!(
    insert_and_read_back,
    a_taken_username_is_reported_as_such,
    a_duplicate_id_is_not_mistaken_for_a_taken_username,
    updates_change_one_account_and_report_unknown_ids,
    rows_that_do_not_parse_are_corrupt_not_a_panic,
);
