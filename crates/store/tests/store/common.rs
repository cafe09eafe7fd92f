//! Helpers shared by the store tests.

use schild_core::ids::{UserId, Username};
use schild_store::AnyConnection;
use schild_store::users::{self, NewUser};
use time::OffsetDateTime;
use time::macros::datetime;

/// A fixed, millisecond-aligned instant, so values survive the millisecond round trip exactly.
pub const T0: OffsetDateTime = datetime!(2026-12-04 10:00:00 UTC);

pub fn new_user_id() -> UserId {
    UserId(uuid::Uuid::new_v4())
}

/// Inserts an account named `name` and returns its id.
pub async fn add_user(conn: &mut AnyConnection, name: &str) -> UserId {
    let id = new_user_id();
    users::insert(
        conn,
        &NewUser {
            id,
            username: Username::parse(name).unwrap(),
            display_name: format!("{name} display"),
            password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo".into(),
            roles: vec!["user".into()],
            created_at: T0,
        },
    )
    .await
    .unwrap();
    id
}

/// A distinct 32-byte "hash" for tests.
pub fn h(n: u8) -> [u8; 32] {
    [n; 32]
}
