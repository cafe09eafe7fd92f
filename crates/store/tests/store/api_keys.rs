//! API keys: stored without their secret, found by public id, revoked and used with
//! compare-and-set.

use crate::common::{T0, add_user, new_user_id};
use schild_core::api_key::{ApiKey, IssuedApiKey, NewApiKey, PresentedApiKey, verify};
use schild_core::ids::UserId;
use schild_core::rbac::{Permission, PermissionSet};
use schild_store::testing::TestDb;
use schild_store::{AnyConnection, StoreError, api_keys};
use time::{Duration, OffsetDateTime};

fn scopes() -> PermissionSet {
    [Permission::UserRead, Permission::AuditRead]
        .into_iter()
        .collect()
}

/// Issues (in memory) a key for `owner` at `at`.
pub fn key_for(owner: UserId, label: &str, at: OffsetDateTime) -> (ApiKey, IssuedApiKey) {
    let (key, issued, _) = ApiKey::issue(
        NewApiKey {
            owner,
            label,
            scopes: scopes(),
            lifetime: Some(Duration::days(30)),
        },
        PermissionSet::all(),
        at,
        &mut schild_core::rand::rng(),
    )
    .unwrap();
    (key, issued)
}

async fn stored(conn: &mut AnyConnection, key: &ApiKey) -> ApiKey {
    api_keys::by_prefix(conn, &key.prefix)
        .await
        .unwrap()
        .unwrap()
}

async fn insert_find_and_list(db: &TestDb) {
    let mut conn = db.store().acquire().await.unwrap();
    let alice = add_user(&mut conn, "alice").await;
    let bob = add_user(&mut conn, "bob").await;
    let (first, issued) = key_for(alice, "nightly export", T0);
    let (second, _) = key_for(alice, "ci deploy", T0 + Duration::seconds(1));
    let (bobs, _) = key_for(bob, "bob's", T0 + Duration::seconds(2));
    for key in [&first, &second, &bobs] {
        api_keys::insert(&mut conn, key).await.unwrap();
    }
    assert_eq!(
        stored(&mut conn, &first).await,
        first,
        "round-trips exactly"
    );
    // What is stored verifies the key that was handed out, and nothing stored is the secret.
    let presented = PresentedApiKey::parse(issued.expose()).unwrap();
    assert_eq!(
        verify(&presented, &stored(&mut conn, &first).await, T0),
        Ok(scopes())
    );

    let prefixes = |keys: Vec<ApiKey>| keys.into_iter().map(|k| k.prefix).collect::<Vec<_>>();
    assert_eq!(
        prefixes(api_keys::list(&mut conn, Some(alice), 10).await.unwrap()),
        [second.prefix.clone(), first.prefix.clone()],
        "newest first, only alice's"
    );
    assert_eq!(
        prefixes(api_keys::list(&mut conn, None, 10).await.unwrap()),
        [
            bobs.prefix.clone(),
            second.prefix.clone(),
            first.prefix.clone()
        ]
    );
    assert_eq!(api_keys::list(&mut conn, None, 1).await.unwrap().len(), 1);

    // The same id twice, and an owner that does not exist, are refused and leave nothing.
    let (mut clash, _) = key_for(bob, "clash", T0);
    clash.prefix = first.prefix.clone();
    assert!(matches!(
        api_keys::insert(&mut conn, &clash).await,
        Err(StoreError::ApiKeyPrefixTaken)
    ));
    assert_eq!(stored(&mut conn, &first).await, first);
    let (orphan, _) = key_for(new_user_id(), "orphan", T0);
    assert!(matches!(
        api_keys::insert(&mut conn, &orphan).await,
        Err(StoreError::NotFound)
    ));
    assert!(
        api_keys::by_prefix(&mut conn, &orphan.prefix)
            .await
            .unwrap()
            .is_none()
    );
}

async fn revocation_and_use_are_compare_and_set(db: &TestDb) {
    let mut conn = db.store().acquire().await.unwrap();
    let alice = add_user(&mut conn, "alice").await;
    let (key, _) = key_for(alice, "ci", T0);
    api_keys::insert(&mut conn, &key).await.unwrap();

    let later = T0 + Duration::hours(2);
    assert!(
        api_keys::record_use(&mut conn, &key.prefix, later)
            .await
            .unwrap()
    );
    assert!(
        !api_keys::record_use(&mut conn, &key.prefix, T0 + Duration::hours(1))
            .await
            .unwrap(),
        "never moves back"
    );
    assert_eq!(stored(&mut conn, &key).await.last_used_at, Some(later));

    let (revoked, _) = key
        .revoke(Some(alice), "leaked", T0 + Duration::hours(3))
        .unwrap();
    assert!(api_keys::revoke(&mut conn, &revoked).await.unwrap());
    let (again, _) = key
        .revoke(None, "second reason", T0 + Duration::hours(4))
        .unwrap();
    assert!(
        !api_keys::revoke(&mut conn, &again).await.unwrap(),
        "the first revocation stands"
    );
    let back = stored(&mut conn, &key).await;
    assert_eq!(back.revoked_at, Some(T0 + Duration::hours(3)));
    assert_eq!(back.revoked_by, Some(alice));
    assert_eq!(back.revoke_reason.unwrap().as_str(), "leaked");
    assert!(
        !api_keys::revoke(&mut conn, &key).await.unwrap(),
        "an unrevoked record revokes nothing"
    );
}

schild_store::dual_backend_tests!(insert_find_and_list, revocation_and_use_are_compare_and_set);
