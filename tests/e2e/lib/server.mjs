// A real lianxind for the browser tests, as tests/integ/harness.c starts one: an ephemeral
// port, a fresh database on the throwaway cluster scripts/test made (LIANXIN_TEST_PGHOST), a
// fresh data folder, the real web/ folder. stop() ends it and drops the database.
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, existsSync, readdirSync } from 'node:fs';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const ADMIN_PASSWORD = 'e2e-admin-password';

function env(name) {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: run the browser tests through make test (scripts/test)`);
  return v;
}

function psql() {
  const bins = readdirSync('/usr/lib/postgresql').sort((a, b) => Number(a) - Number(b));
  return join('/usr/lib/postgresql', bins[bins.length - 1], 'bin', 'psql');
}

function sql(host, statement) {
  execFileSync(psql(), ['-X', '-q', '-h', host, '-U', 'lianxin', '-d', 'postgres', '-c', statement], { stdio: ['ignore', 'ignore', 'inherit'] });
}

export async function startServer() {
  const host = env('LIANXIN_TEST_PGHOST');
  const bin = process.env.LIANXIN_TEST_BIN || join(ROOT, 'build', 'lianxind');
  const tmp = mkdtempSync(join(process.env.LIANXIN_TEST_TMP || '/tmp', 'e2e-'));
  const db = `lxe2e_${process.pid}_${Date.now() % 100000}`;
  sql(host, `CREATE DATABASE ${db}`);
  const portFile = join(tmp, 'port');
  const args = ['serve', '--listen', '127.0.0.1:0', '--port-file', portFile, '--data', join(tmp, 'data'), '--web', join(ROOT, 'web'), '--db', `host=${host} dbname=${db} user=lianxin`, '--log', join(tmp, 'access.log')];
  let stderr = '';
  const child = spawn(bin, args, {
    // no audit anchor txs: the ledger holds what the tests put there
    env: { ...process.env, LIANXIN_ADMIN_PASSWORD: ADMIN_PASSWORD, LIANXIN_AUDIT_ANCHOR_MS: '0', LIANXIN_DEMO: '0' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  child.stderr.on('data', (d) => (stderr += d));
  let exited = null;
  child.on('exit', (code, sig) => (exited = code ?? sig));
  const until = Date.now() + 15000;
  while (!existsSync(portFile) || readFileSync(portFile, 'utf8').trim() === '') {
    if (exited !== null) throw new Error(`lianxind exited during start-up (${exited}): ${stderr}`);
    if (Date.now() > until) throw new Error(`lianxind did not listen within 15 s: ${stderr}`);
    await sleep(20);
  }
  const port = Number(readFileSync(portFile, 'utf8').trim());
  return {
    url: `http://127.0.0.1:${port}`,
    dir: tmp,
    stderr: () => stderr,
    async stop() {
      if (exited === null) {
        child.kill('SIGTERM');
        const t = Date.now() + 20000;
        while (exited === null && Date.now() < t) await sleep(20);
        if (exited === null) child.kill('SIGKILL');
      }
      try {
        sql(host, `DROP DATABASE IF EXISTS ${db}`);
      } catch {
        // the cluster goes away with scripts/test anyway
      }
    },
  };
}
