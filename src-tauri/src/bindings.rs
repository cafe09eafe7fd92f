//! The TypeScript declarations of what the desktop's commands and events carry, generated from
//! these Rust types into `ui/src/lib/backend/desktop.gen.ts`, which the UI imports. The test
//! fails when the file and the types drift apart; `SCHILD_UPDATE_BINDINGS=1 cargo test -p
//! schild-desktop bindings` rewrites it.

use ts_rs::{Config, TS};

/// The declarations, in a stable order, as the file holds them.
fn declarations() -> String {
    // Integers are numbers in JSON and in the UI (none here comes near 2^53).
    let cfg = Config::new().with_large_int("number");
    let mut out = String::from(
        "// Generated from the desktop app's Rust types by src-tauri/src/bindings.rs; do not edit.\n\
         // `SCHILD_UPDATE_BINDINGS=1 cargo test -p schild-desktop bindings` writes it again.\n",
    );
    macro_rules! declare {
        ($($ty:ty),+ $(,)?) => {
            $(
                out.push('\n');
                out.push_str("export ");
                out.push_str(&<$ty as TS>::decl(&cfg));
                out.push('\n');
            )+
        };
    }
    declare!(
        crate::AppInfo,
        crate::Mode,
        crate::DesktopActionView,
        crate::error::CommandError,
        crate::api::FetchRequest,
        crate::api::FetchResponse,
        crate::api::OutboxView,
        schild_client::outbox::Refusal,
        schild_client::outbox::SyncReport,
        schild_client::outbox::Stopped,
        schild_client::outbox::SyncProgress,
        crate::keys::KeyView,
        crate::keys::KeyPrompt,
        crate::keys::FingerprintView,
        crate::keys::SiteCredentialsView,
        crate::keys::StoredCredentialView,
        crate::kiosk::KioskChanged,
        crate::vault::VaultView,
        schild_vault::VaultStatus,
        schild_vault::KeyVersionStatus,
        schild_vault::RotationState,
        schild_vault::UnlockMethod,
        schild_vault::UnlockParams,
        schild_vault::ItemInfo,
        schild_vault::RotationProgress,
        schild_vault::RotationReport,
    );
    out
}

#[test]
fn the_ui_declarations_match_the_rust_types() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../ui/src/lib/backend/desktop.gen.ts");
    let expected = declarations();
    if std::env::var("SCHILD_UPDATE_BINDINGS").is_ok_and(|v| v == "1") {
        std::fs::write(&path, &expected).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        return;
    }
    let current = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        current == expected,
        "{} is not what the Rust types declare: run SCHILD_UPDATE_BINDINGS=1 cargo test -p schild-desktop bindings, then adapt the UI",
        path.display()
    );
}
