// The real desktop window under test: Xvfb, tauri-driver over Debian's WebKitWebDriver, and plain
// WebDriver over HTTP (no packages). Shared by the desktop end-to-end scripts.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const root = resolve(import.meta.dirname, '../..');
const target = process.env.CARGO_TARGET_DIR ?? (existsSync('/work/target') ? '/work/target' : join(root, 'target'));
export const desktopBinary = process.env.SCHILD_DESKTOP_BIN ?? join(target, 'debug', 'schild-desktop');
const driverBin = process.env.TAURI_DRIVER ?? join(process.env.HOME ?? '/root', '.cargo', 'bin', 'tauri-driver');
export const shots = join(root, 'docs', 'screenshots');

export const sleep = (ms) => new Promise((done) => setTimeout(done, ms));

/** A display, a driver and one app session; `close()` ends them all. */
export async function openDesktop({ display = ':96', port = 4444, env = {} } = {}) {
  if (!existsSync(desktopBinary)) throw new Error(`${desktopBinary} is missing: cargo build -p schild-desktop first`);
  const children = [];
  const start = (command, args, extra = {}) => {
    const child = spawn(command, args, { env: { ...process.env, ...extra }, stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr.on('data', () => {});
    children.push(child);
    return child;
  };
  start('Xvfb', [display, '-screen', '0', '1280x820x24']);
  await sleep(800);
  start(driverBin, ['--port', String(port), '--native-driver', '/usr/bin/WebKitWebDriver'], { DISPLAY: display, ...env });

  async function wd(method, path, body) {
    const response = await fetch(`http://127.0.0.1:${port}${path}`, {
      method,
      headers: { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const answer = await response.json();
    if (!response.ok) throw new Error(`${method} ${path}: ${JSON.stringify(answer.value ?? answer)}`);
    return answer.value;
  }
  for (let i = 0; ; i++) {
    try {
      await wd('GET', '/status');
      break;
    } catch {
      if (i > 50) throw new Error('tauri-driver did not start');
      await sleep(200);
    }
  }
  const { sessionId } = await wd('POST', '/session', {
    capabilities: { alwaysMatch: { 'tauri:options': { application: desktopBinary } } },
  });
  const s = `/session/${sessionId}`;
  // The element reference is the answer's one value (its key is the W3C element identifier).
  const find = async (css) => Object.values(await wd('POST', `${s}/element`, { using: 'css selector', value: css }))[0];
  async function waitFor(css, ms = 20_000) {
    const until = Date.now() + ms;
    for (;;) {
      try {
        return await find(css);
      } catch (error) {
        if (Date.now() > until) {
          await ui.failure();
          throw new Error(`${css} did not appear (screenshot: ui/e2e/.out/desktop-failure.png): ${error.message}`);
        }
        await sleep(200);
      }
    }
  }
  const ui = {
    wd,
    find,
    waitFor,
    click: async (css) => wd('POST', `${s}/element/${await waitFor(css)}/click`, {}),
    type: async (css, text) => wd('POST', `${s}/element/${await waitFor(css)}/value`, { text }),
    text: async (css) => wd('GET', `${s}/element/${await waitFor(css)}/text`),
    script: (source, args = []) => wd('POST', `${s}/execute/sync`, { script: source, args }),
    asyncScript: (source, args = []) => wd('POST', `${s}/execute/async`, { script: source, args }),
    /** Waits until the page's `condition` (a JS expression) holds. */
    async until(condition, what, ms = 30_000) {
      const deadline = Date.now() + ms;
      while (!(await ui.script(`return Boolean(${condition})`))) {
        if (Date.now() > deadline) {
          await ui.failure();
          throw new Error(`timed out waiting for ${what} (screenshot: ui/e2e/.out/desktop-failure.png)`);
        }
        await sleep(250);
      }
    },
    /** Saves what the window shows to ui/e2e/.out/desktop-failure.png. */
    async failure() {
      const png = await wd('GET', `${s}/screenshot`).catch(() => null);
      if (png === null) return;
      mkdirSync(join(root, 'ui', 'e2e', '.out'), { recursive: true });
      writeFileSync(join(root, 'ui', 'e2e', '.out', 'desktop-failure.png'), Buffer.from(png, 'base64'));
    },
    async screenshot(name) {
      await sleep(400);
      const png = await wd('GET', `${s}/screenshot`);
      writeFileSync(join(shots, `desktop-${name}.png`), Buffer.from(png, 'base64'));
    },
    async close() {
      await wd('DELETE', s).catch(() => undefined);
      for (const child of children.reverse()) child.kill('SIGTERM');
      await sleep(300);
    },
  };
  return ui;
}

export function check(condition, what) {
  if (!condition) throw new Error(`failed: ${what}`);
  console.log(`  ok: ${what}`);
}
