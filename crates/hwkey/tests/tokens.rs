//! Modules, tokens, logins and keys against a real SoftHSM2 token per test (see
//! `schild_hwkey::hsm::testing` for why each body runs in a child process).

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use schild_hwkey::hsm::testing::{MODULE, SoftHsm, TOKEN_LABEL};
use schild_hwkey::hsm::{HsmError, KeyKind, KeyLabel, KeyUse, Module};
use schild_hwkey::softhsm_test;
use secrecy::SecretString;

fn label(name: &str) -> KeyLabel {
    KeyLabel::new(name).unwrap()
}

#[test]
fn a_missing_module_names_its_path() {
    let error = Module::open("/nonexistent/libpkcs11.so").unwrap_err();
    assert!(
        matches!(&error, HsmError::ModuleNotFound { path } if path.ends_with("libpkcs11.so")),
        "{error:?}"
    );
    assert_eq!(
        error.to_string(),
        "no PKCS#11 module at /nonexistent/libpkcs11.so"
    );
}

#[test]
fn a_file_that_is_no_library_is_not_loadable() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("not-a-library.so");
    std::fs::write(&path, "plain text").unwrap();
    let error = Module::open(&path).unwrap_err();
    assert!(
        matches!(error, HsmError::ModuleNotLoadable { .. }),
        "{error:?}"
    );
}

#[test]
fn a_library_without_pkcs11_entry_points_is_refused() {
    // libc loads everywhere (the loader finds it by name) and exports no C_GetFunctionList.
    let error = Module::open("libc.so.6").unwrap_err();
    assert!(
        matches!(error, HsmError::NotPkcs11Module { .. }),
        "{error:?}"
    );
}

softhsm_test!(
    fn slots_show_the_initialised_token(hsm) {
        let module = hsm.module();
        assert!(module.info().unwrap().manufacturer.contains("SoftHSM"));
        let slots = module.slots().unwrap();
        let token = slots
            .iter()
            .filter_map(|slot| slot.token.as_ref())
            .find(|token| token.label == TOKEN_LABEL)
            .expect("the fixture token is listed");
        assert!(token.initialized && token.user_pin_initialized && token.login_required);
        assert!(!token.user_pin_locked);
        assert_eq!(token.model, "SoftHSM v2");
        assert!(!token.serial.is_empty());
        // SoftHSM2 always keeps one free, uninitialised slot.
        assert!(
            slots
                .iter()
                .any(|slot| slot.token.as_ref().is_some_and(|token| !token.initialized))
        );
    }
);

softhsm_test!(
    fn a_token_is_found_by_label_among_several(hsm) {
        hsm.init_token("second");
        let token = hsm
            .module()
            .login("second", &hsm.user_pin())
            .unwrap();
        assert_eq!(token.label(), "second");
        let error = hsm
            .module()
            .login("absent", &hsm.user_pin())
            .unwrap_err();
        let HsmError::TokenNotFound { label, mut available } = error else {
            panic!("expected TokenNotFound, got {error:?}");
        };
        available.sort();
        assert_eq!(label, "absent");
        assert_eq!(available, ["schild-test", "second"]);
    }
);

softhsm_test!(
    fn a_wrong_pin_is_refused(hsm) {
        let error = hsm
            .module()
            .login(TOKEN_LABEL, &SecretString::from("not the PIN"))
            .unwrap_err();
        assert!(matches!(error, HsmError::WrongPin { .. }), "{error:?}");
        // Neither the message nor the debug form carries the PIN that was tried.
        assert!(!format!("{error} {error:?}").contains("not the PIN"));
        // The right PIN still works afterwards.
        hsm.login();
    }
);

softhsm_test!(
    fn each_kind_is_generated_and_listed(hsm) {
        let token = hsm.login();
        assert!(token.keys().unwrap().is_empty());
        for kind in KeyKind::ALL {
            let made = token.generate(kind, &label(kind.as_str())).unwrap();
            assert_eq!(made.kind, Some(kind));
            assert_eq!(made.id.len(), 2);
        }
        let listed: Vec<_> = token
            .keys()
            .unwrap()
            .into_iter()
            .map(|key| (key.label, key.kind))
            .collect();
        assert_eq!(
            listed,
            [
                ("aes256".to_owned(), Some(KeyKind::Aes256)),
                ("ed25519".to_owned(), Some(KeyKind::Ed25519)),
                ("p256".to_owned(), Some(KeyKind::P256)),
            ]
        );
    }
);

softhsm_test!(
    fn keys_live_on_the_token_not_in_the_session(hsm) {
        let kek = label("kek");
        {
            let token = hsm.login();
            token.generate(KeyKind::Aes256, &kek).unwrap();
        }
        // A fresh module handle and login in the same process see the same token objects.
        let token = hsm.login();
        assert_eq!(token.key_kind(&kek).unwrap(), Some(KeyKind::Aes256));
    }
);

softhsm_test!(
    fn a_duplicate_label_is_refused(hsm) {
        let token = hsm.login();
        let name = label("audit-signer");
        token.generate(KeyKind::P256, &name).unwrap();
        for kind in KeyKind::ALL {
            let error = token.generate(kind, &name).unwrap_err();
            assert!(
                matches!(&error, HsmError::DuplicateLabel { label } if label == "audit-signer"),
                "{error:?}"
            );
        }
        assert_eq!(token.keys().unwrap().len(), 1);
    }
);

softhsm_test!(
    fn deleting_a_key_removes_both_halves(hsm) {
        let token = hsm.login();
        let name = label("temporary");
        token.generate(KeyKind::Ed25519, &name).unwrap();
        token.delete_key(&name).unwrap();
        assert!(token.keys().unwrap().is_empty());
        // The label is free again: no public half was left behind.
        token.generate(KeyKind::Aes256, &name).unwrap();
        let error = token.delete_key(&label("never-made")).unwrap_err();
        assert!(matches!(error, HsmError::KeyNotFound { .. }), "{error:?}");
    }
);

softhsm_test!(
    fn a_key_is_used_only_for_what_it_is(hsm) {
        let token = hsm.login();
        token.generate(KeyKind::Aes256, &label("kek")).unwrap();
        token.generate(KeyKind::P256, &label("signer")).unwrap();
        let error = token.sign(&label("kek"), b"message").unwrap_err();
        assert!(
            matches!(
                error,
                HsmError::WrongKeyKind {
                    needed: KeyUse::Signing,
                    found: Some(KeyKind::Aes256),
                    ..
                }
            ),
            "{error:?}"
        );
        let error = token.wrap(&label("signer"), b"data", b"aad").unwrap_err();
        assert!(
            matches!(
                error,
                HsmError::WrongKeyKind {
                    needed: KeyUse::Wrapping,
                    found: Some(KeyKind::P256),
                    ..
                }
            ),
            "{error:?}"
        );
        let error = token.sign(&label("nothing"), b"message").unwrap_err();
        assert!(matches!(error, HsmError::KeyNotFound { .. }), "{error:?}");
    }
);

#[test]
fn the_fixture_token_exists_before_the_child_runs() {
    // The parent side of the fixture alone: a token directory with one initialised token.
    let hsm = SoftHsm::new();
    let tokens = hsm.conf().parent().unwrap().join("tokens");
    assert_eq!(std::fs::read_dir(tokens).unwrap().count(), 1);
    assert!(std::path::Path::new(MODULE).exists());
}
