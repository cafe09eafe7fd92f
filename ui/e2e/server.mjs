// Starts a throwaway Schild backend: a temporary data directory, a free loopback port (the OS
// picks it), and the one-time setup token read from its console.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/** A loopback port free at this moment (the OS picks it). */
export function freePort() {
  return new Promise((done, fail) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => done(port));
    });
    server.on('error', fail);
  });
}

/** The `schild` binary: $SCHILD_BIN, else the debug build in $CARGO_TARGET_DIR or ../target. */
export function schildBinary() {
  if (process.env.SCHILD_BIN) return process.env.SCHILD_BIN;
  const target = process.env.CARGO_TARGET_DIR ?? resolve(import.meta.dirname, '..', '..', 'target');
  return join(target, 'debug', 'schild');
}

/** `env` adds to the backend's environment (its WebAuthn relying party, for instance). */
export async function startBackend({ timeoutMs = 60_000, env = {} } = {}) {
  const binary = schildBinary();
  if (!existsSync(binary)) throw new Error(`no schild binary at ${binary}: build it with cargo build -p schild, or set SCHILD_BIN`);
  const dataDir = mkdtempSync(join(tmpdir(), 'schild-ui-'));
  const child = spawn(binary, ['serve', '--listen', '127.0.0.1:0'], {
    env: { ...process.env, ...env, SCHILD_DATA_DIR: dataDir, RUST_LOG: process.env.RUST_LOG ?? 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let log = '';
  child.stderr.on('data', (chunk) => (log += chunk));
  const ready = new Promise((resolvePromise, reject) => {
    const timer = setTimeout(() => reject(new Error(`backend did not start in time:\n${out}\n${log}`)), timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`backend exited with ${code}:\n${out}\n${log}`));
    });
    child.stdout.on('data', (chunk) => {
      out += chunk;
      const url = out.match(/Schild backend on (http:\/\/127\.0\.0\.1:\d+)/)?.[1];
      const token = out.match(/setup token[\s\S]*?\n\s*\n {6}(\S+)\s*\n/)?.[1];
      if (url && token) {
        clearTimeout(timer);
        child.removeAllListeners('exit');
        resolvePromise({ url, setupToken: token });
      }
    });
  });
  const { url, setupToken } = await ready;
  let stopped = false;
  return {
    url,
    setupToken,
    dataDir,
    binary,
    log: () => log,
    async stop() {
      if (stopped) return;
      stopped = true;
      child.kill('SIGTERM');
      await new Promise((done) => {
        if (child.exitCode !== null) return done();
        child.once('exit', done);
        setTimeout(() => {
          child.kill('SIGKILL');
          done();
        }, 5000);
      });
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
