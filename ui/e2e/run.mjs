// End to end: a real `schild serve` on a temporary data directory, the built UI served by
// `vite preview` (which forwards /api to it), and Debian's Chromium driven by playwright-core.
// Walks first-run setup, TOTP enrollment and a TOTP sign-in, creates a user, starts a review and
// decides an item, looks at the dashboard, issues a passwordless security key to a person on the
// Enrollment screen and signs in with it (Chromium's virtual authenticator over the DevTools
// protocol), and saves a screenshot of every screen in English and Dutch, light and dark, to
// docs/screenshots/. WebAuthn needs a domain: the page is served at http://localhost:<port>, the
// backend's relying-party id and origin.
import { execFileSync, spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdirSync, existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { chromium } from 'playwright-core';
import { freePort, startBackend } from './server.mjs';

const root = resolve(import.meta.dirname, '..');
const shots = resolve(root, '..', 'docs', 'screenshots');
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const PASSWORD = 'correct horse battery staple 42';
const USER_PASSWORD = 'tangerine orbit lantern violin 7';

// ---- helpers ---------------------------------------------------------------------------------

/** RFC 6238 TOTP (SHA-1, 6 digits, 30 s) for a base32 secret, `offset` steps from now. */
function totp(secret, offset = 0) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const char of secret.replace(/[\s=]/g, '').toUpperCase()) bits += alphabet.indexOf(char).toString(2).padStart(5, '0');
  const key = Buffer.from(bits.match(/.{8}/g).map((byte) => parseInt(byte, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(Date.now() / 30_000) + offset));
  const mac = createHmac('sha1', key).update(counter).digest();
  const at = mac[mac.length - 1] & 0xf;
  return String((mac.readUInt32BE(at) & 0x7fffffff) % 1_000_000).padStart(6, '0');
}

async function startPreview(backendUrl, port) {
  if (!existsSync(resolve(root, 'dist', 'index.html'))) throw new Error('ui/dist is missing: run npm run build first');
  const child = spawn(process.execPath, [resolve(root, 'node_modules/vite/bin/vite.js'), 'preview', '--port', String(port), '--strictPort'], {
    cwd: root,
    env: { ...process.env, SCHILD_BACKEND: backendUrl },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (chunk) => (out += chunk));
  child.stderr.on('data', (chunk) => (out += chunk));
  // The page's origin is localhost (a WebAuthn relying party needs a domain); vite listens on the
  // loopback address, which the probe uses directly.
  const url = `http://localhost:${port}`;
  for (let i = 0; i < 100; i += 1) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/healthz`)).ok) return { url, stop: () => child.kill('SIGTERM') };
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  child.kill('SIGTERM');
  throw new Error(`vite preview did not start:\n${out}`);
}

// axe-core checks each screen for WCAG 2.x A/AA failures (contrast included). It is evaluated
// through the DevTools protocol, which the page's Content-Security-Policy does not govern.
const AXE = readFileSync(resolve(root, 'node_modules/axe-core/axe.min.js'), 'utf8');
const a11y = [];
let a11yPasses = 0;
async function audit(page, name) {
  const found = await page.evaluate(async (source) => {
    if (!window.axe) (0, eval)(source);
    const result = await window.axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21aa', 'wcag22aa'] } });
    return {
      passes: result.passes.length,
      violations: result.violations.map((v) => `${v.id} (${v.impact}): ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(' | ')}`),
    };
  }, AXE);
  a11yPasses += found.passes;
  for (const violation of found.violations) a11y.push(`${name}: ${violation}`);
}

let step = 0;
function log(text) {
  step += 1;
  console.log(`  ${String(step).padStart(2)}. ${text}`);
}

// ---- the run ---------------------------------------------------------------------------------

const started = Date.now();
const previewPort = await freePort();
const backend = await startBackend({
  env: { SCHILD_WEBAUTHN_RP_ID: 'localhost', SCHILD_WEBAUTHN_ORIGIN: `http://localhost:${previewPort}` },
});
const preview = await startPreview(backend.url, previewPort);
const browser = await chromium.launch({
  executablePath: CHROMIUM,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync'],
});
const problems = [];
let failed = false;
let page;

try {
  mkdirSync(shots, { recursive: true });
  const context = await browser.newContext({ viewport: { width: 1280, height: 860 }, locale: 'en-GB', timezoneId: 'UTC', acceptDownloads: true });
  page = await context.newPage();
  page.setDefaultTimeout(15_000);
  // A virtual CTAP2 security key with a PIN (user verification) on USB, as a desk would hand out.
  const cdp = await context.newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: { protocol: 'ctap2', transport: 'usb', hasResidentKey: true, hasUserVerification: true, isUserVerified: true },
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('console', (message) => {
    const text = message.text();
    // Failed HTTP answers are logged by Chromium itself; the UI shows them as designed.
    if (message.type() === 'error' && !/Failed to load resource/.test(text)) problems.push(`console: ${text}`);
  });

  // Some failed sign-ins first, so the dashboard has something to show.
  for (const name of ['mallory', 'eve', 'trudy']) {
    await fetch(`${backend.url}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: name, password: 'guess guess guess' }),
    });
  }

  const shoot = async (name, options = {}) => {
    await page.waitForTimeout(150);
    await page.screenshot({ path: resolve(shots, `${name}.png`), fullPage: true, ...options });
  };
  const look = async (locale, theme) => {
    await page.goto(`${preview.url}/#/settings`);
    await page.locator(`input[name=locale][value=${locale}]`).check();
    await page.locator(`input[name=theme][value=${theme}]`).check();
  };

  // Signed out: the sign-in and setup screens, and a refused sign-in, in every look.
  await page.goto(preview.url);
  for (const [locale, theme] of [['en', 'light'], ['en', 'dark'], ['nl', 'light'], ['nl', 'dark']]) {
    await look(locale, theme);
    await page.goto(`${preview.url}/#/dashboard`);
    await page.locator('#username').waitFor();
    await shoot(`signin-${locale}-${theme}`);
    await audit(page, `signin-${locale}-${theme}`);
    await page.locator('#username').fill('nobody');
    await page.locator('#password').fill('wrong password');
    await page.locator('form button[type=submit]').click();
    await page.locator('[data-code=invalid_credentials]').waitFor();
    await shoot(`signin-error-${locale}-${theme}`);
    await audit(page, `signin-error-${locale}-${theme}`);
    await page.locator('[role=tab]').nth(1).click();
    await page.locator('#setup-token').waitFor();
    await page.locator('form button[type=submit]').click(); // empty: inline messages, nothing sent
    await page.locator('#setup-token-error').waitFor();
    await shoot(`setup-${locale}-${theme}`);
    await audit(page, `setup-${locale}-${theme}`);
    await page.locator('[role=tab]').nth(0).click();
  }
  log('sign-in and setup screens, with inline validation and a refused sign-in');
  await look('en', 'light');

  // First-run setup creates the administrator and signs in.
  await page.goto(`${preview.url}/#/dashboard`);
  await page.locator('[role=tab]').nth(1).click();
  await page.locator('#setup-token').fill(backend.setupToken);
  await page.locator('#username').fill('admin');
  await page.locator('#display-name').fill('Ada Admin');
  await page.locator('#new-password').fill(PASSWORD);
  await page.locator('#repeat').fill(PASSWORD);
  await page.locator('form button[type=submit]').click();
  await page.locator('[data-testid=dashboard]').waitFor();
  log('first administrator created through the setup screen, signed in');

  // The dashboard as a report the backend draws: an SVG naming the failed sign-ins, and a PNG.
  const exported = async (button) => {
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: button }).click()]);
    if (!/^schild-dashboard-\d{4}-\d{2}-\d{2}\.(svg|png)$/.test(download.suggestedFilename())) {
      throw new Error(`${button} saved ${download.suggestedFilename()}`);
    }
    return readFileSync(await download.path());
  };
  const svgReport = (await exported('Export SVG')).toString('utf8');
  const failedCaption = /Failed sign-ins per day \(UTC\): (\d+) in 14 days/.exec(svgReport);
  if (!svgReport.startsWith('<svg') || failedCaption === null || Number(failedCaption[1]) < 3) {
    throw new Error(`the SVG report does not show the failed sign-ins:\n${svgReport.slice(0, 500)}`);
  }
  const pngReport = await exported('Export PNG');
  if (pngReport.subarray(0, 8).toString('hex') !== '89504e470d0a1a0a' || pngReport.length < 10_000) {
    throw new Error(`the PNG report is not a PNG image (${pngReport.length} bytes)`);
  }
  log(`dashboard report exported as SVG (${failedCaption[1]} failed sign-ins) and PNG (${pngReport.length} bytes)`);

  // TOTP enrollment with the QR code, then the backup codes, shown once.
  await page.goto(`${preview.url}/#/enrollment`);
  await page.getByRole('button', { name: 'Set up an authenticator app' }).click();
  await page.locator('#enroll-password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Next' }).click();
  await page.locator('img.qr').waitFor();
  const secretBox = page.locator('[data-testid=totp-secret]');
  await shoot('enrollment-qr-en-light', { mask: [page.locator('img.qr'), secretBox] });
  await secretBox.getByRole('button').click();
  const secret = (await secretBox.innerText()).split('\n')[0].replace(/\s/g, '').replace(/(Hide|Verbergen)$/, '');
  await page.locator('#confirm-code').fill(totp(secret));
  await page.getByRole('button', { name: 'Activate' }).click();
  await page.locator('[data-testid=backup-codes] li').first().waitFor();
  const codes = await page.locator('[data-testid=backup-codes] li').allInnerTexts();
  if (codes.length !== 10) throw new Error(`expected 10 backup codes, saw ${codes.length}`);
  await shoot('backup-codes-en-light', { mask: [page.locator('[data-testid=backup-codes]')] });
  await page.getByRole('button', { name: 'I have stored them' }).click();
  log('TOTP enrolled from the QR secret; ten backup codes shown once');

  // Sign out, and in again with password and TOTP (the next time step: a used one is refused).
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.locator('#username').fill('admin');
  await page.locator('#password').fill(PASSWORD);
  await page.locator('form button[type=submit]').click();
  await page.locator('#code').waitFor();
  await page.locator('#code').fill('12');
  await page.locator('form button[type=submit]').click();
  await page.locator('#code-error').waitFor();
  await shoot('second-factor-en-light');
  await page.locator('#code').fill(totp(secret, 1));
  await page.locator('form button[type=submit]').click();
  await page.getByRole('heading', { name: 'Enrollment' }).waitFor(); // back where the person was
  log('signed in again with password and a TOTP code');

  // A user, created through the Users screen.
  await page.goto(`${preview.url}/#/users`);
  await page.getByRole('button', { name: 'Create account' }).first().click();
  await page.locator('#new-username').fill('x');
  await page.locator('#new-user-password').fill('short');
  await page.locator('form button[type=submit]').first().click();
  await page.locator('#new-username-error').waitFor();
  await page.locator('#new-username').fill('olga');
  await page.locator('#new-display').fill('Olga Operator');
  await page.locator('#new-user-password').fill(USER_PASSWORD);
  await page.locator('#new-role').selectOption('enrollment-operator');
  await page.locator('form button[type=submit]').first().click();
  await page.locator('[data-testid=user-detail]').getByText('Olga Operator').waitFor();
  log('user olga created; bad input was refused inline first');

  // Just in time: olga asks for audit:read, the administrator approves, olga sees the elevation.
  const olgaContext = await browser.newContext({ viewport: { width: 1280, height: 860 }, locale: 'en-GB', timezoneId: 'UTC' });
  const olga = await olgaContext.newPage();
  olga.setDefaultTimeout(15_000);
  olga.on('pageerror', (error) => problems.push(`page error (olga): ${error.message}`));
  await olga.goto(`${preview.url}/#/access/requests`);
  await olga.locator('#username').fill('olga');
  await olga.locator('#password').fill(USER_PASSWORD);
  await olga.locator('form button[type=submit]').click();
  await olga.locator('#ask-title').waitFor();
  await olga.locator('input[name=kind][value=permission]').check();
  await olga.locator('#jit-target').fill('audit:read');
  await olga.locator('#jit-minutes').fill('30');
  await olga.locator('#jit-reason').fill('Checking last night’s failed sign-ins');
  await olga.getByRole('button', { name: 'Send request' }).click();
  await olga.locator('td', { hasText: 'Waiting' }).waitFor();
  await page.goto(`${preview.url}/#/access/requests`);
  await page.locator('tr', { hasText: 'olga' }).getByRole('button', { name: 'Approve' }).click();
  await page.locator('#grants-title').locator('xpath=..').locator('td', { hasText: 'audit:read' }).waitFor();
  await olga.evaluate(() => (window.location.hash = '#/dashboard'));
  await olga.locator('[role=timer]').waitFor();
  await olga.evaluate(() => (window.location.hash = '#/audit'));
  await olga.locator('[data-testid=audit-table]').waitFor();
  await olga.screenshot({ path: resolve(shots, 'elevation-en-light.png'), fullPage: false });
  log('olga requested audit:read, the administrator approved, olga’s top bar counts down');

  // Hardware keys issued at the front desk (schild key enroll with virtual keys), then renamed,
  // and one marked lost through the typed confirmation.
  for (const [user, serial] of [['olga', 'SN-42'], ['olga', 'SN-43'], ['admin', 'SN-7']]) {
    execFileSync(
      backend.binary,
      ['key', 'enroll', '--virtual', resolve(backend.dataDir, `${serial}.key`), '--user', user, '--as', 'admin', '--station', 'front desk', '--serial', serial],
      { env: { ...process.env, SCHILD_DATA_DIR: backend.dataDir, SCHILD_KEY_NEW_PIN: '482916', SCHILD_KEY_PIN: '482916' }, stdio: 'ignore', timeout: 60_000 },
    );
  }
  await page.goto(`${preview.url}/#/keys`);
  await page.getByRole('button', { name: 'Rename' }).click();
  await page.locator('input[id^=rename-]').fill('desk key');
  await page.getByRole('button', { name: 'Save' }).click();
  await page.locator('td', { hasText: 'desk key' }).waitFor();
  await page.locator('tr', { hasText: 'SN-43' }).getByRole('button', { name: 'Mark lost' }).click();
  await page.locator('#confirm-reason').fill('Left on a train');
  await page.locator('#confirm-word').fill('lost');
  await page.locator('dialog button[type=submit]').click();
  await page.locator('#confirm-word-error').waitFor();
  await shoot('keys-confirm-en-light');
  await page.locator('#confirm-word').fill('LOST');
  await page.locator('dialog button[type=submit]').click();
  await page.locator('tr', { hasText: 'SN-43' }).getByText('Lost').waitFor();
  log('three keys issued; own key renamed; SN-43 marked lost after a typed confirmation');

  // A review campaign: start it, decide olga's item.
  await page.goto(`${preview.url}/#/access/reviews`);
  await page.getByRole('button', { name: 'Start a review' }).click();
  await page.locator('#campaign-name').fill('Quarterly review');
  await page.locator('form button[type=submit]').click();
  await page.locator('[data-testid=review-detail]').waitFor();
  await page.getByRole('checkbox', { name: /olga/ }).check();
  await page.locator('input[name=verdict][value=revoke]').check();
  await page.getByRole('button', { name: 'Apply decision' }).click();
  await page.locator('#decision-reason-error').waitFor(); // removing a role needs a reason
  await page.locator('input[name=verdict][value=certify]').check();
  await page.locator('#decision-reason').fill('Still runs the enrollment desk');
  await page.getByRole('button', { name: 'Apply decision' }).click();
  await page.getByText('Decided: 1.').waitFor();
  await page.locator('tr', { hasText: 'olga' }).getByText('Kept').waitFor();
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export CSV' }).click()]);
  const report = readFileSync(await download.path(), 'utf8');
  if (!report.includes('olga') || !report.includes('certified')) throw new Error(`the CSV report lacks olga's decision:\n${report}`);
  const reviewHash = new URL(page.url()).hash;
  log('review campaign started, olga’s item certified (a removal without reason was refused inline), CSV report exported');

  // Forced logout: the administrator ends olga's session; olga's next step says so.
  await page.goto(`${preview.url}/#/users`);
  await page.locator('a', { hasText: 'olga' }).click();
  await page.locator('[data-testid=user-detail]').getByRole('button', { name: 'Sign out' }).first().click();
  await page.locator('#confirm-word').fill('LOGOUT');
  await page.locator('dialog button[type=submit]').click();
  await page.locator('[data-testid=user-detail]').getByText('No active sessions.').waitFor();
  await olga.evaluate(() => (window.location.hash = '#/dashboard'));
  await olga.getByText('You were signed out.').waitFor();
  await olga.screenshot({ path: resolve(shots, 'session-ended-en-light.png') });
  await olgaContext.close();
  log('olga’s session ended by the administrator; olga’s page says why');

  // Five wrong passwords lock olga; an administrator blocks a scanner's address from the host.
  for (let i = 0; i < 5; i += 1) {
    await fetch(`${backend.url}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'olga', password: 'not her password at all' }),
    });
  }
  execFileSync(backend.binary, ['admin', 'block-ip', '192.0.2.7', '--minutes', '60', '--note', 'scanner'], {
    env: { ...process.env, SCHILD_DATA_DIR: backend.dataDir },
    stdio: 'ignore',
    timeout: 30_000,
  });

  // The dashboard shows the failed sign-ins, the lock, the block and the sessions.
  await page.goto(`${preview.url}/#/dashboard`);
  await page.locator('[data-testid=dashboard]').waitFor();
  const total = await page.locator('.tile').nth(3).locator('strong').innerText();
  if (Number(total) < 12) throw new Error(`dashboard shows ${total} failed sign-ins, expected at least 12`);
  await page.locator('#locked-title').locator('xpath=..').getByText('olga').waitFor();
  await page.locator('#blocked-title').locator('xpath=..').getByText('192.0.2.7').waitFor();
  log(`dashboard shows ${total} failed sign-ins, olga locked and 192.0.2.7 blocked`);

  // Every screen, in every look. The session lives in memory, so the look is changed in place.
  const screens = [
    ['dashboard', '#/dashboard', '[data-testid=dashboard]'],
    ['enrollment', '#/enrollment', 'h1'],
    ['keys', '#/keys', '#inventory-title'],
    ['vault', '#/vault', '[data-testid=vault-desktop-only]'],
    ['access-reviews', '#/access/reviews', 'table.data'],
    ['access-review', `${reviewHash}`, '[data-testid=review-detail]'],
    ['access-requests', '#/access/requests', '#ask-title'],
    ['access-roles', '#/access/roles', 'table.data'],
    ['users', '#/users', 'table.data'],
    ['incidents', '#/incidents', '[data-testid=not-available]'],
    ['training', '#/training', '[data-testid=not-available]'],
    ['audit', '#/audit', '[data-testid=audit-table]'],
    ['settings', '#/settings', '#look-title'],
  ];
  for (const [locale, theme] of [['en', 'light'], ['en', 'dark'], ['nl', 'light'], ['nl', 'dark']]) {
    await page.evaluate(() => (window.location.hash = '#/settings'));
    await page.locator(`input[name=locale][value=${locale}]`).check();
    await page.locator(`input[name=theme][value=${theme}]`).check();
    for (const [name, hash, ready] of screens) {
      await page.evaluate((h) => (window.location.hash = h), hash);
      await page.locator(ready).first().waitFor();
      if (name === 'users') {
        await page.locator('a', { hasText: 'olga' }).click();
        await page.locator('[data-testid=user-detail]').waitFor();
        await page.locator('[data-testid=user-detail] input[type=checkbox]').check();
        await page.locator('[data-testid=user-detail] table').waitFor();
      }
      if (name === 'access-roles') {
        await page.locator('button.link', { hasText: 'enrollment-operator' }).click();
        await page.locator('.perms').waitFor();
      }
      await shoot(`${name}-${locale}-${theme}`);
      await audit(page, `${name}-${locale}-${theme}`);
    }
  }
  log(`screenshots of ${screens.length} screens in EN and NL, light and dark, in docs/screenshots/, each checked by axe-core (${a11yPasses} rule checks passed)`);

  // Unlock olga from her account's detail pane.
  await look('en', 'light');
  await page.evaluate(() => (window.location.hash = '#/users'));
  await page.locator('a', { hasText: 'olga' }).click();
  await page.getByRole('button', { name: 'Unlock' }).click();
  await page.locator('tr', { hasText: 'olga' }).getByText('Active').waitFor();
  log('olga unlocked from the Users screen');

  // A security key for olga, issued at the enrollment station: choose her, the key, register it
  // as passwordless (the virtual authenticator answers), and see what the inventory recorded.
  await page.evaluate(() => (window.location.hash = '#/enrollment'));
  await page.getByRole('button', { name: 'Issue a key to a person' }).click();
  await page.locator('#person-search').waitFor();
  await page.getByRole('button', { name: 'Next' }).click(); // nobody chosen: said inline
  await page.locator('#person-error').waitFor();
  await page.locator('#person-search').fill('olg');
  await page.getByRole('radio', { name: /Olga Operator/ }).check();
  await shoot('enroll-key-person-en-light');
  await audit(page, 'enroll-key-person-en-light');
  await page.getByRole('button', { name: 'Next' }).click();
  await page.locator('#key-step-title').waitFor();
  await shoot('enroll-key-insert-en-light');
  await audit(page, 'enroll-key-insert-en-light');
  await page.getByRole('button', { name: 'Next' }).click();
  await page.locator('#key-name').waitFor();
  await page.locator('#key-serial').fill('SN-77\u0007');
  await page.getByRole('button', { name: 'Register key' }).click(); // no name, a control character: refused inline
  await page.locator('#key-name-error').waitFor();
  await page.locator('#key-serial-error').waitFor();
  await shoot('enroll-key-register-en-light');
  await audit(page, 'enroll-key-register-en-light');
  await page.locator('#key-name').fill('Olga’s passkey');
  await page.locator('#key-serial').fill('SN-77');
  await page.locator('#key-station').fill('front desk');
  if (!(await page.getByRole('checkbox', { name: /passwordless/ }).isChecked())) throw new Error('passwordless is not the default at the station');
  await page.getByRole('button', { name: 'Register key' }).click();
  const registered = page.locator('[data-testid=key-registered]');
  await registered.waitFor();
  const record = await registered.innerText();
  for (const expected of ['Olga’s passkey', 'SN-77', 'front desk', 'alone (passwordless)']) {
    if (!record.includes(expected)) throw new Error(`the registered key lacks ${expected}:\n${record}`);
  }
  await shoot('enroll-key-done-en-light');
  await audit(page, 'enroll-key-done-en-light');
  const held = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
  if (held.credentials.length !== 1 || !held.credentials[0].isResidentCredential) throw new Error('the virtual key holds no discoverable credential');
  await page.evaluate(() => (window.location.hash = '#/keys'));
  await page.locator('tr', { hasText: 'SN-77' }).getByText('front desk').waitFor();
  log('the administrator issued a passwordless key to olga on the Enrollment screen; the inventory lists SN-77 at the front desk');

  // Signed out, "Sign in with a security key" on the same page signs olga in: no name, no password.
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByRole('button', { name: 'Sign in with a security key' }).click();
  await page.locator('[data-testid=backend-status]').waitFor();
  await page.getByText('Olga Operator').first().waitFor();
  const me = await page.locator('header').first().innerText();
  if (!me.includes('Olga Operator') || !me.includes('enrollment-operator')) throw new Error(`the top bar does not show olga:\n${me}`);
  await shoot('signin-key-done-en-light', { fullPage: false });
  log('signed out; Sign in with a security key signed olga in with the virtual key alone');

  // The same key as the second factor after olga's password.
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.locator('#username').fill('olga');
  await page.locator('#password').fill(USER_PASSWORD);
  await page.locator('form button[type=submit]').click();
  await page.getByRole('radio', { name: 'Security key' }).waitFor();
  if (!(await page.getByRole('radio', { name: 'Security key' }).isChecked())) throw new Error('the security key is not offered first to an account without TOTP');
  await shoot('second-factor-key-en-light');
  await audit(page, 'second-factor-key-en-light');
  await page.getByRole('button', { name: 'Use the security key' }).click();
  await page.locator('[data-testid=backend-status]').waitFor();
  await page.getByText('Olga Operator').first().waitFor();
  log('olga signed in with her password and the security key as the second factor');

  // Back to the administrator, with one of the backup codes (a fresh set is shown once).
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.locator('#username').fill('admin');
  await page.locator('#password').fill(PASSWORD);
  await page.locator('form button[type=submit]').click();
  await page.locator('input[name=factor][value=backup]').check();
  await page.locator('#code').fill(codes[0]);
  await page.locator('form button[type=submit]').click();
  await page.getByRole('button', { name: 'I have stored them' }).click();
  await page.getByText('Ada Admin').first().waitFor();
  log('the administrator signed in again with a backup code');

  // The administrator adds a key to the own account: the password again, a second factor only.
  await page.evaluate(() => (window.location.hash = '#/enrollment'));
  await page.getByRole('button', { name: 'Add a security key to my own account' }).click();
  await page.getByRole('button', { name: 'Next' }).click();
  await page.locator('#key-name').fill('Ada’s laptop key');
  await page.getByRole('checkbox', { name: /passwordless/ }).uncheck();
  await page.getByRole('button', { name: 'Register key' }).click(); // no password: said inline
  await page.locator('#key-password-error').waitFor();
  await page.locator('#key-password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Register key' }).click();
  const own = page.locator('[data-testid=key-registered]');
  await own.waitFor();
  const ownRecord = await own.innerText();
  if (!ownRecord.includes('Ada’s laptop key') || !ownRecord.includes('after the password')) throw new Error(`the own key was not registered as a second factor:\n${ownRecord}`);
  await shoot('enroll-own-key-done-en-light');
  await audit(page, 'enroll-own-key-done-en-light');
  await page.getByRole('button', { name: 'Done' }).click();
  await page.evaluate(() => (window.location.hash = '#/keys'));
  await page.locator('#mine-title').locator('xpath=..').getByText('Ada’s laptop key').waitFor();
  log('the administrator added a key to the own account (password asked again); Keys lists it');

  // Offline: the backend goes away; the top bar and the screen say so, with a retry.
  await look('en', 'light');
  await backend.stop();
  await page.evaluate(() => (window.location.hash = '#/users'));
  await page.locator('[data-code=offline]').waitFor();
  await page.locator('[data-testid=backend-status]').getByText('Offline').waitFor();
  await shoot('offline-en-light');
  log('backend stopped: offline shown in the top bar and on the screen');

  if (a11y.length > 0) throw new Error(`accessibility (axe-core, WCAG 2 A/AA):\n${a11y.join('\n')}`);
  if (problems.length > 0) throw new Error(`the page reported problems:\n${problems.join('\n')}`);
  console.log(`e2e passed in ${Math.round((Date.now() - started) / 1000)} s`);
} catch (error) {
  failed = true;
  console.error(`e2e FAILED after step ${step}: ${error instanceof Error ? error.stack : error}`);
  if (page) {
    mkdirSync(resolve(root, 'e2e', '.out'), { recursive: true });
    await page.screenshot({ path: resolve(root, 'e2e', '.out', 'failure.png'), fullPage: true }).catch(() => undefined);
    console.error(`page at failure: ${page.url()}; screenshot in ui/e2e/.out/failure.png`);
  }
  if (problems.length > 0) console.error(problems.join('\n'));
  console.error(`backend log (tail):\n${backend.log().split('\n').slice(-20).join('\n')}`);
} finally {
  await browser.close();
  preview.stop();
  await backend.stop();
}
process.exit(failed ? 1 : 0);
