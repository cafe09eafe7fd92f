// The real desktop window, driven over WebDriver: Xvfb, tauri-driver with Debian's
// WebKitWebDriver, and the built `schild-desktop` in local mode on a fresh data directory.
// It creates the first administrator on the setup screen (the token is filled in by the app),
// creates the vault and stores an item, then opens every screen in EN and NL, light and dark,
// saving screenshots to docs/screenshots/desktop-*.png. Plain WebDriver over HTTP: no packages.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '../..');
const target = process.env.CARGO_TARGET_DIR ?? (existsSync('/work/target') ? '/work/target' : join(root, 'target'));
const app = process.env.SCHILD_DESKTOP_BIN ?? join(target, 'debug', 'schild-desktop');
const driverBin = process.env.TAURI_DRIVER ?? join(process.env.HOME ?? '/root', '.cargo', 'bin', 'tauri-driver');
const shots = join(root, 'docs', 'screenshots');
const DISPLAY = ':96';
const PORT = 4444;
const ELEMENT = 'element-6066-11e4-a07c-4f5c4f5c4f5c';
const SCREENS = ['dashboard', 'enrollment', 'keys', 'vault', 'access', 'users', 'audit', 'settings'];

const sleep = (ms) => new Promise((done) => setTimeout(done, ms));
const children = [];
function start(command, args, env = {}) {
  const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  child.stderr.on('data', () => {});
  children.push(child);
  return child;
}

async function wd(method, path, body) {
  const response = await fetch(`http://127.0.0.1:${PORT}${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const answer = await response.json();
  if (!response.ok) throw new Error(`${method} ${path}: ${JSON.stringify(answer.value ?? answer)}`);
  return answer.value;
}

let session = '';
const find = async (css) => Object.values(await wd('POST', `/session/${session}/element`, { using: 'css selector', value: css }))[0];
async function waitFor(css, ms = 20_000) {
  const until = Date.now() + ms;
  for (;;) {
    try {
      return await find(css);
    } catch (error) {
      if (Date.now() > until) throw new Error(`${css} did not appear: ${error.message}`);
      await sleep(200);
    }
  }
}
const click = async (css) => wd('POST', `/session/${session}/element/${await waitFor(css)}/click`, {});
const type = async (css, text) => wd('POST', `/session/${session}/element/${await waitFor(css)}/value`, { text });
const text = async (css) => wd('GET', `/session/${session}/element/${await waitFor(css)}/text`);
const script = (source) => wd('POST', `/session/${session}/execute/sync`, { script: source, args: [] });
async function screenshot(name) {
  await sleep(400);
  const png = await wd('GET', `/session/${session}/screenshot`);
  writeFileSync(join(shots, `desktop-${name}.png`), Buffer.from(png, 'base64'));
}
function check(condition, what) {
  if (!condition) throw new Error(`failed: ${what}`);
  console.log(`  ok: ${what}`);
}

const data = mkdtempSync(join(tmpdir(), 'schild-desktop-e2e-'));
try {
  if (!existsSync(app)) throw new Error(`${app} is missing: cargo build -p schild-desktop first`);
  start('Xvfb', [DISPLAY, '-screen', '0', '1280x820x24']);
  await sleep(800);
  start(driverBin, ['--port', String(PORT), '--native-driver', '/usr/bin/WebKitWebDriver'], {
    DISPLAY,
    SCHILD_DATA_DIR: data,
  });
  for (let i = 0; ; i++) {
    try {
      await wd('GET', '/status');
      break;
    } catch {
      if (i > 50) throw new Error('tauri-driver did not start');
      await sleep(200);
    }
  }
  const created = await wd('POST', '/session', {
    capabilities: { alwaysMatch: { 'tauri:options': { application: app } } },
  });
  session = created.sessionId;

  // First run: the local backend's setup token is already in its field.
  await waitFor('#setup-token');
  const token = await script("return document.querySelector('#setup-token').value");
  check(typeof token === 'string' && token.length === 43, 'the setup token is filled in by the app');
  await screenshot('setup-en-light');
  await type('#username', 'ada');
  await type('#display-name', 'Ada Admin');
  await type('#new-password', 'orbit tangerine lantern violin');
  await type('#repeat', 'orbit tangerine lantern violin');
  await click('form button[type=submit]');
  await waitFor('[data-testid=backend-status]');
  check((await text('h1')).length > 0, 'signed in through the relay: the dashboard shows');

  // The vault: created with a recovery passphrase; one item stored.
  await script("location.hash = '#/vault'");
  await type('#passphrase', 'correct horse battery staple');
  await type('#repeat', 'correct horse battery staple');
  await click('form button[type=submit]');
  await type('#item-name', 'github-token');
  await type('#item-value', 'ghp_example_value');
  await click('form.add button[type=submit]');
  await waitFor('table.data tbody tr');
  check((await text('table.data tbody')).includes('github-token'), 'the vault stores an item');

  // Every screen, in both languages and themes.
  for (const [locale, theme] of [['en', 'light'], ['en', 'dark'], ['nl', 'light'], ['nl', 'dark']]) {
    await script("location.hash = '#/settings'");
    await click(`input[name=locale][value=${locale}]`);
    await click(`input[name=theme][value=${theme}]`);
    for (const screen of SCREENS) {
      await script(`location.hash = '#/${screen}'`);
      await waitFor('h1');
      await screenshot(`${screen}-${locale}-${theme}`);
    }
  }
  check(true, `screenshots of ${SCREENS.length} screens in EN and NL, light and dark`);
  await wd('DELETE', `/session/${session}`);
  console.log('desktop e2e passed');
} finally {
  for (const child of children.reverse()) child.kill('SIGTERM');
  rmSync(data, { recursive: true, force: true });
}
