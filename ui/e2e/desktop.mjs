// The real desktop window, driven over WebDriver (./webdriver.mjs): Xvfb, tauri-driver with
// Debian's WebKitWebDriver, and the built `schild-desktop` in local mode on a fresh data
// directory. It creates the first administrator on the setup screen (the token is filled in by
// the app), creates the vault and stores an item, attaches the demo key and issues it to the
// administrator through the Enrollment flow (setting its PIN), signs in again with the key alone,
// adds the key as a vault unlock method and unlocks with it, does the same with an AES key in a
// SoftHSM2 token, then opens every screen in EN and NL, light and dark, saving screenshots to
// docs/screenshots/desktop-*.png.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { schildBinary } from './server.mjs';
import { check, openDesktop } from './webdriver.mjs';

const SCREENS = ['dashboard', 'enrollment', 'keys', 'vault', 'access', 'users', 'audit', 'settings'];
const PIN = '482916';

const HSM_PIN = '4711-user';

/** A SoftHSM2 token with an AES-256 key, `vault-kek`, made the way an operator would. */
function softHsm(dir) {
  const conf = join(dir, 'softhsm2.conf');
  mkdirSync(join(dir, 'tokens'));
  writeFileSync(conf, `directories.tokendir = ${join(dir, 'tokens')}\nobjectstore.backend = file\nlog.level = ERROR\n`);
  const env = { ...process.env, SOFTHSM2_CONF: conf, SCHILD_HSM_PIN: HSM_PIN };
  execFileSync('softhsm2-util', ['--init-token', '--free', '--label', 'schild-e2e', '--so-pin', '0815-officer', '--pin', HSM_PIN], { env, stdio: 'ignore' });
  execFileSync(schildBinary(), ['hsm', 'generate', '--token', 'schild-e2e', '--kind', 'aes256', '--label', 'vault-kek'], { env, stdio: 'ignore' });
  return conf;
}

const data = mkdtempSync(join(tmpdir(), 'schild-desktop-e2e-'));
const hsmDir = mkdtempSync(join(tmpdir(), 'schild-softhsm-'));
let ui;
try {
  const softhsmConf = softHsm(hsmDir);
  ui = await openDesktop({ env: { SCHILD_DATA_DIR: data, SOFTHSM2_CONF: softhsmConf } });
  /** Clicks the button whose text is `label` (inside `scope`, a CSS selector). */
  const press = async (label, scope = 'body') => {
    await ui.until(`[...document.querySelectorAll(${JSON.stringify(`${scope} button`)})].some((b) => b.textContent.trim() === ${JSON.stringify(label)} && !b.disabled)`, `the button ${label}`);
    await ui.script(`[...document.querySelectorAll(${JSON.stringify(`${scope} button`)})].find((b) => b.textContent.trim() === ${JSON.stringify(label)} && !b.disabled).click()`);
  };
  /** Submits the form holding the field `css`. */
  const submit = (css) => ui.script(`document.querySelector(${JSON.stringify(css)}).closest('form').querySelector('button[type=submit]').click()`);

  // The webview keeps the look of an earlier run: start in English, light.
  await ui.waitFor('#setup-token');
  await ui.script("location.hash = '#/settings'");
  await ui.click('input[name=locale][value=en]');
  await ui.click('input[name=theme][value=light]');
  await ui.script("location.hash = '#/dashboard'");

  // First run: the local backend's setup token is already in its field.
  await ui.waitFor('#setup-token');
  const token = await ui.script("return document.querySelector('#setup-token').value");
  check(typeof token === 'string' && token.length === 43, 'the setup token is filled in by the app');
  await ui.screenshot('setup-en-light');
  await ui.type('#username', 'ada');
  await ui.type('#display-name', 'Ada Admin');
  await ui.type('#new-password', 'orbit tangerine lantern violin');
  await ui.type('#repeat', 'orbit tangerine lantern violin');
  await ui.click('form button[type=submit]');
  await ui.waitFor('[data-testid=backend-status]');
  check((await ui.text('h1')).length > 0, 'signed in through the relay: the dashboard shows');

  // The vault: created with a recovery passphrase; one item stored.
  await ui.script("location.hash = '#/vault'");
  await ui.type('#passphrase', 'correct horse battery staple');
  await ui.type('#repeat', 'correct horse battery staple');
  await ui.click('form button[type=submit]');
  await ui.type('#item-name', 'github-token');
  await ui.type('#item-value', 'ghp_example_value');
  await ui.click('form.add button[type=submit]');
  await ui.waitFor('table.data tbody tr');
  check((await ui.text('table.data tbody')).includes('github-token'), 'the vault stores an item');

  // The demo key, attached in Settings and issued to ada at the Enrollment screen.
  await ui.script("location.hash = '#/settings'");
  await press('Attach the demo key');
  await ui.until("document.body.textContent.includes('The demo key is attached.')", 'the demo key');
  await ui.script("location.hash = '#/enrollment'");
  await press('Issue a key to a person');
  await ui.type('#person-search', 'ada');
  await ui.until("[...document.querySelectorAll('input[type=radio]')].some((r) => r.closest('label')?.textContent.includes('Ada Admin'))", 'ada in the search');
  await ui.script("[...document.querySelectorAll('input[type=radio]')].find((r) => r.closest('label')?.textContent.includes('Ada Admin')).click()");
  await press('Next');
  await ui.until("!document.querySelector('[data-testid=key-next]')?.disabled", 'the demo key read');
  await ui.screenshot('enroll-key-en-light');
  await ui.click('[data-testid=key-next]');
  await ui.type('#key-new-pin', PIN);
  await ui.type('#key-repeat-pin', '000000');
  await submit('#key-new-pin');
  await ui.waitFor('#key-repeat-pin-error');
  await ui.script("document.querySelector('#key-repeat-pin').value = ''; document.querySelector('#key-repeat-pin').dispatchEvent(new Event('input'))");
  await ui.type('#key-repeat-pin', PIN);
  await ui.screenshot('enroll-pin-en-light');
  await submit('#key-new-pin');
  // The demo key reads fingerprints: one is enrolled, its samples reported as they come.
  await ui.type('#print-name', 'right index');
  await press('Add fingerprint');
  await ui.until("document.querySelector('#prints-title')?.parentElement.textContent.includes('right index')", 'the enrolled fingerprint', 60_000);
  await ui.screenshot('enroll-fingerprint-en-light');
  await press('Next');
  await ui.type('#key-name', 'Ada’s demo key');
  await submit('#key-name');
  await ui.waitFor('[data-testid=key-registered]', 60_000);
  await ui.screenshot('enroll-done-en-light');
  check((await ui.text('[data-testid=key-registered]')).includes('Ada’s demo key'), 'the demo key was issued to ada, its PIN set on the way (mismatched PINs refused first)');

  // Signed out, ada signs in with the key and its PIN alone.
  await press('Sign out');
  await ui.click('[data-testid=signin-with-key]');
  await ui.type('#key-pin', PIN);
  await submit('#key-pin');
  await ui.waitFor('[data-testid=backend-status]', 60_000);
  check((await ui.text('header')).includes('Ada Admin'), 'ada signed in with the security key, in Rust through the relay');

  // The key as a vault unlock method: added, the vault locked, and unlocked with a touch.
  await ui.script("location.hash = '#/vault'");
  await ui.waitFor('#method-add-title');
  await ui.click('input[name=method-kind][value=security-key]');
  await ui.type('#method-id', 'demo-key');
  await ui.type('#method-label', 'demo key');
  await ui.type('#method-pin', PIN);
  await submit('#method-id');
  await ui.until("document.querySelector('.methods')?.textContent.includes('demo key')", 'the new unlock method', 60_000);
  await press('Lock now');
  await ui.click('input[name=unlock-with][value=demo-key]');
  await ui.type('#unlock-pin', PIN);
  await ui.screenshot('vault-unlock-key-en-light');
  await submit('#unlock-pin');
  await ui.until("document.body.textContent.includes('github-token')", 'the vault unlocked with the key', 60_000);
  check(true, 'the vault unlocks with the security key');

  // An AES key in the HSM as another method: a wrong module path is refused inline first.
  await ui.click('input[name=method-kind][value=hsm]');
  await ui.type('#method-id', 'hsm');
  await ui.type('#method-label', 'SoftHSM token');
  await ui.script("const f = document.querySelector('#hsm-module'); f.value = 'libsofthsm2.so'; f.dispatchEvent(new Event('input'))");
  await ui.type('#hsm-token', 'schild-e2e');
  await ui.type('#hsm-key', 'vault-kek');
  await ui.type('#method-pin', HSM_PIN);
  await submit('#method-id');
  await ui.waitFor('#hsm-module-error');
  await ui.script("const f = document.querySelector('#hsm-module'); f.value = '/usr/lib/softhsm/libsofthsm2.so'; f.dispatchEvent(new Event('input'))");
  await submit('#method-id');
  await ui.until("document.querySelector('.methods')?.textContent.includes('SoftHSM token')", 'the HSM unlock method', 60_000);
  await press('Lock now');
  await ui.click('input[name=unlock-with][value=hsm]');
  await ui.type('#unlock-pin', HSM_PIN);
  await submit('#unlock-pin');
  await ui.until("document.body.textContent.includes('github-token')", 'the vault unlocked with the HSM', 60_000);
  check(true, 'the vault unlocks with an AES key inside the HSM (a module path that is not absolute refused inline)');
  await ui.script("location.hash = '#/settings'");
  await ui.until("document.querySelectorAll('[data-testid=desktop-actions] tbody tr').length >= 6", 'this desktop’s actions');
  const actions = await ui.text('[data-testid=desktop-actions] tbody');
  for (const action of ['vault.created', 'demo_key.attached', 'key.pin_set', 'key.fingerprint_enrolled', 'vault.method_added', 'vault.locked', 'vault.unlocked']) {
    check(actions.includes(action), `Settings lists this desktop’s action ${action}`);
  }
  check(!actions.includes(PIN) && !actions.includes('ghp_example_value'), 'no PIN or secret in this desktop’s record');

  // Every screen, in both languages and themes.
  for (const [locale, theme] of [['en', 'light'], ['en', 'dark'], ['nl', 'light'], ['nl', 'dark']]) {
    await ui.script("location.hash = '#/settings'");
    await ui.click(`input[name=locale][value=${locale}]`);
    await ui.click(`input[name=theme][value=${theme}]`);
    for (const screen of SCREENS) {
      await ui.script(`location.hash = '#/${screen}'`);
      await ui.waitFor('h1');
      await ui.screenshot(`${screen}-${locale}-${theme}`);
    }
  }
  check(true, `screenshots of ${SCREENS.length} screens in EN and NL, light and dark`);
  console.log('desktop e2e passed');
} finally {
  if (ui) await ui.close();
  rmSync(data, { recursive: true, force: true });
  rmSync(hsmDir, { recursive: true, force: true });
}
