//! Sessions and refresh-token rotation.

use crate::common::{T0, add_user, h, new_user_id};
use schild_core::audit::LoginMethod;
use schild_core::ids::{SessionId, UserId};
use schild_store::StoreError;
use schild_store::sessions::{self, NewSession, RevokeReason};
use schild_store::testing::TestDb;
use time::{Duration, OffsetDateTime};

fn new_session(user: UserId, at: OffsetDateTime) -> NewSession {
    NewSession {
        id: SessionId(uuid::Uuid::new_v4()),
        user_id: user,
        created_at: at,
        expires_at: at + Duration::days(7),
        ip: Some("::ffff:192.0.2.7".parse().unwrap()),
        user_agent: Some("test-agent/1.0".into()),
        method: LoginMethod::PasswordTotp,
    }
}

async fn create_find_and_rotate(db: &TestDb) {
    let mut conn = db.store().acquire().await.unwrap();
    let user = add_user(&mut conn, "alice").await;
    let new = new_session(user, T0);
    sessions::create(&mut conn, &new, &h(1)).await.unwrap();

    let (refresh, session) = sessions::find_refresh(&mut conn, &h(1))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (
            refresh.hash,
            refresh.session_id,
            refresh.issued_at,
            refresh.used_at
        ),
        (h(1), new.id, T0, None)
    );
    assert_eq!(session.id, new.id);
    assert_eq!(session.user_id, user);
    assert_eq!(
        (session.created_at, session.last_seen_at, session.expires_at),
        (T0, T0, new.expires_at)
    );
    assert_eq!(
        session.ip,
        Some("192.0.2.7".parse().unwrap()),
        "stored in canonical form"
    );
    assert_eq!(session.user_agent.as_deref(), Some("test-agent/1.0"));
    assert_eq!(session.method, LoginMethod::PasswordTotp);
    assert!(session.revoked_at.is_none() && session.revoke_reason.is_none());
    assert_eq!(
        sessions::by_id(&mut conn, new.id).await.unwrap(),
        Some(session)
    );
    assert!(
        sessions::find_refresh(&mut conn, &h(9))
            .await
            .unwrap()
            .is_none()
    );

    // Rotation: spend the old token, add the new one, touch the session.
    let t1 = T0 + Duration::minutes(20);
    assert!(sessions::mark_used(&mut conn, &h(1), t1).await.unwrap());
    assert!(
        !sessions::mark_used(&mut conn, &h(1), t1).await.unwrap(),
        "a token is spent once"
    );
    assert!(
        !sessions::mark_used(&mut conn, &h(9), t1).await.unwrap(),
        "unknown token"
    );
    sessions::add_refresh(&mut conn, new.id, &h(2), t1)
        .await
        .unwrap();
    assert!(sessions::touch(&mut conn, new.id, t1).await.unwrap());

    let (old, _) = sessions::find_refresh(&mut conn, &h(1))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(old.used_at, Some(t1));
    let (next, session) = sessions::find_refresh(&mut conn, &h(2))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (next.session_id, next.issued_at, next.used_at),
        (new.id, t1, None)
    );
    assert_eq!(session.last_seen_at, t1);
}

async fn concurrent_refreshes_cannot_both_win(db: &TestDb) {
    let store = db.store();
    let user = add_user(&mut store.acquire().await.unwrap(), "alice").await;
    let new = new_session(user, T0);
    sessions::create(&mut store.acquire().await.unwrap(), &new, &h(1))
        .await
        .unwrap();

    // Each in its own transaction that reads before it writes, as the server's refresh does:
    // on SQLite this must not fail with "database is locked", on both exactly one may rotate.
    let refresh = async |next: [u8; 32]| {
        let mut tx = store.begin().await.unwrap();
        let (token, session) = sessions::find_refresh(&mut tx, &h(1))
            .await
            .unwrap()
            .unwrap();
        assert!(session.is_active(T0));
        let won = token.used_at.is_none() && sessions::mark_used(&mut tx, &h(1), T0).await.unwrap();
        if won {
            sessions::add_refresh(&mut tx, session.id, &next, T0)
                .await
                .unwrap();
        }
        tx.commit().await.unwrap();
        won
    };
    let (ra, rb) = tokio::join!(refresh(h(2)), refresh(h(3)));
    assert!(ra ^ rb, "exactly one refresh must win: {ra} {rb}");
}

async fn activity_expiry_and_revocation(db: &TestDb) {
    let mut conn = db.store().acquire().await.unwrap();
    let user = add_user(&mut conn, "alice").await;
    let new = new_session(user, T0);
    sessions::create(&mut conn, &new, &h(1)).await.unwrap();

    assert!(sessions::is_active(&mut conn, new.id, T0).await.unwrap());
    assert!(
        !sessions::is_active(&mut conn, new.id, new.expires_at)
            .await
            .unwrap(),
        "expired at expires_at"
    );
    assert!(
        !sessions::is_active(&mut conn, SessionId(uuid::Uuid::new_v4()), T0)
            .await
            .unwrap()
    );

    let t1 = T0 + Duration::hours(1);
    assert!(
        sessions::revoke(&mut conn, new.id, RevokeReason::Logout, t1)
            .await
            .unwrap()
    );
    assert!(
        !sessions::revoke(
            &mut conn,
            new.id,
            RevokeReason::ForcedLogout,
            t1 + Duration::hours(1)
        )
        .await
        .unwrap()
    );
    assert!(!sessions::is_active(&mut conn, new.id, t1).await.unwrap());
    assert!(
        !sessions::touch(&mut conn, new.id, t1).await.unwrap(),
        "a revoked session is not touched"
    );
    let row = sessions::by_id(&mut conn, new.id).await.unwrap().unwrap();
    assert_eq!(
        (row.revoked_at, row.revoke_reason),
        (Some(t1), Some(RevokeReason::Logout)),
        "first revocation kept"
    );
    assert!(!row.is_active(t1));
}

async fn revoke_all_and_list(db: &TestDb) {
    let mut conn = db.store().acquire().await.unwrap();
    let user = add_user(&mut conn, "alice").await;
    let other = add_user(&mut conn, "bob").await;
    let live1 = new_session(user, T0);
    let live2 = new_session(user, T0 + Duration::minutes(1));
    let revoked = new_session(user, T0 + Duration::minutes(2));
    let mut expired = new_session(user, T0 - Duration::days(8));
    expired.expires_at = T0 - Duration::days(1);
    let others = new_session(other, T0);
    for (n, s) in [&live1, &live2, &revoked, &expired, &others]
        .into_iter()
        .enumerate()
    {
        sessions::create(&mut conn, s, &h(n as u8)).await.unwrap();
    }
    sessions::revoke(&mut conn, revoked.id, RevokeReason::Logout, T0)
        .await
        .unwrap();

    let now = T0 + Duration::minutes(5);
    let active: Vec<_> = sessions::list_for_user(&mut conn, user, false, now)
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(
        active,
        vec![live2.id, live1.id],
        "newest first, only live ones"
    );
    let all: Vec<_> = sessions::list_for_user(&mut conn, user, true, now)
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(all, vec![revoked.id, live2.id, live1.id, expired.id]);

    assert_eq!(
        sessions::revoke_all_for_user(&mut conn, user, RevokeReason::LogoutEverywhere, now)
            .await
            .unwrap(),
        2
    );
    assert_eq!(
        sessions::revoke_all_for_user(&mut conn, user, RevokeReason::LogoutEverywhere, now)
            .await
            .unwrap(),
        0
    );
    assert!(
        sessions::list_for_user(&mut conn, user, false, now)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        sessions::is_active(&mut conn, others.id, now)
            .await
            .unwrap(),
        "other accounts untouched"
    );
    let r = sessions::by_id(&mut conn, live1.id).await.unwrap().unwrap();
    assert_eq!(r.revoke_reason, Some(RevokeReason::LogoutEverywhere));

    // Purging ended sessions removes their refresh tokens too.
    let purged = sessions::purge_ended_before(&mut conn, now + Duration::minutes(1))
        .await
        .unwrap();
    assert_eq!(purged, 4);
    assert!(
        sessions::find_refresh(&mut conn, &h(0))
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        sessions::find_refresh(&mut conn, &h(4))
            .await
            .unwrap()
            .is_some()
    );
}

async fn sessions_need_an_account_and_parse_strictly(db: &TestDb) {
    let mut conn = db.store().acquire().await.unwrap();
    let err = sessions::create(&mut conn, &new_session(new_user_id(), T0), &h(1))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Database(_)), "{err:?}");
    assert!(
        sessions::find_refresh(&mut conn, &h(1))
            .await
            .unwrap()
            .is_none(),
        "nothing half-written"
    );

    let user = add_user(&mut conn, "alice").await;
    let s = new_session(user, T0);
    sessions::create(&mut conn, &s, &h(2)).await.unwrap();
    sqlx::query("UPDATE sessions SET revoke_reason = 'because' WHERE id = $1")
        .bind(s.id.to_string())
        .execute(&mut *conn)
        .await
        .unwrap();
    assert!(
        matches!(sessions::by_id(&mut conn, s.id).await, Err(StoreError::Corrupt { what }) if what == "sessions.revoke_reason")
    );
    sqlx::query(
        "UPDATE sessions SET revoke_reason = NULL, method = 'carrier_pigeon' WHERE id = $1",
    )
    .bind(s.id.to_string())
    .execute(&mut *conn)
    .await
    .unwrap();
    assert!(
        matches!(sessions::find_refresh(&mut conn, &h(2)).await, Err(StoreError::Corrupt { what }) if what == "sessions.method")
    );
}

#[test]
fn revoke_reasons_round_trip_through_text() {
    for reason in [
        RevokeReason::Logout,
        RevokeReason::LogoutEverywhere,
        RevokeReason::ForcedLogout,
        RevokeReason::RefreshReuse,
        RevokeReason::PasswordChanged,
        RevokeReason::AccountDisabled,
    ] {
        assert_eq!(reason.as_str().parse::<RevokeReason>(), Ok(reason));
    }
    assert!("LOGOUT".parse::<RevokeReason>().is_err());
}

schild_store::dual_backend_tests!(
    create_find_and_rotate,
    concurrent_refreshes_cannot_both_win,
    activity_expiry_and_revocation,
    revoke_all_and_list,
    sessions_need_an_account_and_parse_strictly,
);
