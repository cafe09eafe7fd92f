// The desktop app in the field, in the real window (Xvfb, tauri-driver, WebKitWebDriver):
//
// 1. Offline: the app talks to a remote `schild serve`. The backend stops; the administrator
//    keeps working on what the app last read, approves olga's request and unlocks olga's account;
//    both wait in the outbox. The backend comes back; the app sends them, and the backend shows
//    each carried out once (the idempotency keys make a resend harmless).
// 2. Enrollment station: the app starts with SCHILD_KIOSK=1; only the enrollment flow shows and
//    the Rust relay refuses other API calls; an administrator's security key (the demo key,
//    registered for passwordless sign-in) ends the station mode.
// Screenshots: docs/screenshots/desktop-offline-*.png and desktop-kiosk-*.png.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, schildBinary } from './server.mjs';
import { check, openDesktop, sleep } from './webdriver.mjs';

const ADMIN_PASSWORD = 'orbit tangerine lantern violin';
const OLGA_PASSWORD = 'tangerine orbit lantern violin 7';
const KEY_PIN = '482916';

/** `schild serve` on a fixed port and data directory, so it can stop and come back. */
async function serve(dataDir, port) {
  const child = spawn(schildBinary(), ['serve', '--listen', `127.0.0.1:${port}`], {
    env: { ...process.env, SCHILD_DATA_DIR: dataDir, RUST_LOG: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (chunk) => (out += chunk));
  child.stderr.on('data', (chunk) => (out += chunk));
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(`${url}/healthz`)).ok) break;
    } catch {
      if (i > 150 || child.exitCode !== null) throw new Error(`the backend did not start:\n${out}`);
    }
    await sleep(200);
  }
  await sleep(300);
  return {
    url,
    setupToken: () => out.match(/setup token[\s\S]*?\n\s*\n {6}(\S+)\s*\n/)?.[1],
    stop: () =>
      new Promise((done) => {
        child.once('exit', done);
        child.kill('SIGTERM');
      }),
  };
}

async function api(url, method, path, { token, body } = {}) {
  const response = await fetch(`${url}/api/v1${path}`, {
    method,
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, json: text ? JSON.parse(text) : null };
}

const backendDir = mkdtempSync(join(tmpdir(), 'schild-backend-'));
const desktopDir = mkdtempSync(join(tmpdir(), 'schild-desktop-'));
const port = await freePort();
let backend = await serve(backendDir, port);
let ui;
try {
  // The backend's people: ada administers; olga asks for audit:read and then locks herself out.
  const setupToken = backend.setupToken();
  check(typeof setupToken === 'string', 'the backend printed its setup token');
  await api(backend.url, 'POST', '/setup', { body: { setup_token: setupToken, username: 'ada', display_name: 'Ada Admin', password: ADMIN_PASSWORD } });
  const ada = (await api(backend.url, 'POST', '/auth/login', { body: { username: 'ada', password: ADMIN_PASSWORD } })).json.access_token;
  await api(backend.url, 'POST', '/admin/users', { token: ada, body: { username: 'olga', display_name: 'Olga Operator', password: OLGA_PASSWORD, roles: ['enrollment-operator'] } });
  const olga = (await api(backend.url, 'POST', '/auth/login', { body: { username: 'olga', password: OLGA_PASSWORD } })).json.access_token;
  const asked = await api(backend.url, 'POST', '/access/requests', { token: olga, body: { permission: 'audit:read', duration_minutes: 30, reason: 'Incident 41: read the sign-in failures' } });
  check(asked.status === 201, 'olga asked for audit:read');
  for (let i = 0; i < 5; i++) await api(backend.url, 'POST', '/auth/login', { body: { username: 'olga', password: 'not her password at all' } });

  // ---- 1. offline ------------------------------------------------------------------------------
  ui = await openDesktop({ env: { SCHILD_DATA_DIR: desktopDir, SCHILD_BACKEND_URL: backend.url } });
  // The webview keeps the look of an earlier run: English, light.
  await ui.waitFor('#username');
  await ui.script("location.hash = '#/settings'");
  await ui.click('input[name=locale][value=en]');
  await ui.click('input[name=theme][value=light]');
  await ui.script("location.hash = '#/dashboard'");
  await ui.type('#username', 'ada');
  await ui.type('#password', ADMIN_PASSWORD);
  await ui.click('form button[type=submit]');
  await ui.waitFor('[data-testid=backend-status]');
  // Read the screens once while online: the app can show them offline from then on.
  await ui.script("location.hash = '#/access/requests'");
  await ui.until("[...document.querySelectorAll('tr')].some((r) => r.textContent.includes('olga') && r.querySelector('button'))", 'olga’s request');
  await ui.script("location.hash = '#/users'");
  await ui.until("[...document.querySelectorAll('a')].some((a) => a.textContent.includes('olga'))", 'the users list');
  check(true, 'signed in to the remote backend; requests and users read');

  await backend.stop();
  await ui.script("location.hash = '#/access/requests'");
  await ui.until("[...document.querySelectorAll('tr')].some((r) => r.textContent.includes('olga') && r.querySelector('button'))", 'olga’s request, from what the app last read');
  await ui.script("[...document.querySelectorAll('tr')].find((r) => r.textContent.includes('olga')).querySelector('button').click()");
  await ui.until("document.querySelector('[data-testid=outbox-status]')", 'the outbox badge');
  await ui.script("location.hash = '#/users'");
  await ui.until("[...document.querySelectorAll('a')].some((a) => a.textContent.includes('olga'))", 'the users list, offline');
  await ui.script("[...document.querySelectorAll('a')].find((a) => a.textContent.includes('olga')).click()");
  await ui.until("[...document.querySelectorAll('[data-testid=user-detail] button')].some((b) => b.textContent.trim() === 'Unlock')", 'the Unlock button');
  await ui.script("[...document.querySelectorAll('[data-testid=user-detail] button')].find((b) => b.textContent.trim() === 'Unlock').click()");
  await ui.until("document.querySelector('[data-testid=outbox-status]')?.textContent.includes('2')", 'two changes waiting');
  check((await ui.text('[data-testid=backend-status]')).includes('Offline'), 'the top bar says the backend is offline');
  await ui.screenshot('offline-users-en-light');
  await ui.script("location.hash = '#/settings'");
  await ui.until("document.querySelectorAll('[data-testid=outbox] tbody tr').length === 2", 'the outbox list');
  await ui.screenshot('offline-outbox-en-light');
  check(true, 'offline: the approval and the unlock wait in the outbox');

  // The backend returns: the app sends the outbox (here at once, with the panel's button).
  backend = await serve(backendDir, port);
  await ui.script("[...document.querySelectorAll('[data-testid=outbox] button')].find((b) => b.textContent.includes('send'))?.click()");
  await ui.until("!document.querySelector('[data-testid=outbox-status]')", 'the outbox to empty', 40_000);
  await ui.screenshot('offline-synced-en-light');
  const again = (await api(backend.url, 'POST', '/auth/login', { body: { username: 'ada', password: ADMIN_PASSWORD } })).json.access_token;
  const requests = (await api(backend.url, 'GET', '/access/requests', { token: again })).json;
  const olgas = requests.filter((r) => r.reason?.includes('Incident 41'));
  check(olgas.length === 1 && olgas[0].state !== 'pending', `olga’s request was approved once (${olgas[0]?.state})`);
  const signIn = await api(backend.url, 'POST', '/auth/login', { body: { username: 'olga', password: OLGA_PASSWORD } });
  check(signIn.status === 200, 'olga’s account was unlocked: she signs in');
  const unlocks = (await api(backend.url, 'GET', '/admin/audit?kind=auth.account.unlocked&limit=50', { token: again })).json;
  check(unlocks.length === 1, `the audit log shows one unlock, not two (${unlocks.length})`);
  await ui.close();
  ui = undefined;

  // ---- 2. enrollment station -------------------------------------------------------------------
  // Ada's security key: the desktop's demo key, registered for passwordless sign-in.
  execFileSync(schildBinary(), ['key', 'enroll', '--virtual', join(desktopDir, 'demo-key.json'), '--user', 'ada', '--as', 'ada', '--passwordless', '--name', 'ada’s key'], {
    env: { ...process.env, SCHILD_DATA_DIR: backendDir, SCHILD_KEY_NEW_PIN: KEY_PIN, SCHILD_KEY_PIN: KEY_PIN, SCHILD_WEBAUTHN_ORIGIN: `http://localhost:${port}` },
    stdio: 'ignore',
    timeout: 60_000,
  });
  writeFileSync(join(desktopDir, 'demo-key.attached'), 'virtual demo key attached\n');
  ui = await openDesktop({ env: { SCHILD_DATA_DIR: desktopDir, SCHILD_BACKEND_URL: backend.url, SCHILD_KIOSK: '1' } });
  await ui.waitFor('[data-testid=kiosk-bar]');
  await ui.script("location.hash = '#/audit'");
  await sleep(300);
  check(await ui.script("return document.querySelector('nav') === null"), 'the station shows no navigation, whatever the address');
  const refused = await ui.asyncScript(
    "const done = arguments[arguments.length - 1]; window.__TAURI_INTERNALS__.invoke('backend_fetch', { request: { method: 'GET', path: '/api/v1/admin/audit', authorization: null, body: null } }).then(() => done('passed'), (e) => done(e.code));",
  );
  check(refused === 'kiosk.not_allowed', `the relay refuses the rest of the API at the station (${refused})`);
  await ui.screenshot('kiosk-en-light');
  await ui.click('[data-testid=kiosk-bar] button');
  await ui.click('dialog form button[type=submit]');
  await ui.waitFor('#kiosk-pin-error');
  await ui.type('#kiosk-pin', KEY_PIN);
  await ui.screenshot('kiosk-leave-en-light');
  await ui.click('dialog form button[type=submit]');
  await ui.until("document.querySelector('[data-testid=kiosk-bar]') === null", 'the station mode to end', 40_000);
  check(true, 'ada’s security key ended the station mode');
  console.log('desktop offline and station e2e passed');
} finally {
  if (ui) await ui.close();
  await backend.stop().catch(() => undefined);
  rmSync(backendDir, { recursive: true, force: true });
  rmSync(desktopDir, { recursive: true, force: true });
}
