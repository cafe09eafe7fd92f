//! The console output operators read, pinned: `tests/cmd/*.toml` run the real binary in a
//! sandbox directory with its own SQLite database.

#[test]
fn console_output() {
    trycmd::TestCases::new().case("tests/cmd/*.toml");
}
