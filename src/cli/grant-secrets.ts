import { chmodSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { configDir } from './login-store.js';

/**
 * The grant secrets the CLI keeps (mode 0600) so a second `connect` reuses
 * one instead of rotating it under an open connection string. Each server
 * has its own folder, so ending grants on one server never touches another's.
 * Secrets of grants that have ended are removed by `airlock who`,
 * `airlock connect` and `airlock release`: a secret outlives its use only
 * until the next of those.
 */

const root = () => join(configDir(), 'grants');
const serverFolder = (server: string) => join(root(), new URL(server).host.replace(/[^a-z0-9.-]/gi, '_'));
const fileName = (grantId: string) => `${grantId}.secret`;

export function readGrantSecret(server: string, grantId: string): string | undefined {
  // Secrets saved before per-server folders sit directly in grants/.
  for (const dir of [serverFolder(server), root()]) {
    try {
      return readFileSync(join(dir, fileName(grantId)), 'utf8').trim();
    } catch {
      // not kept there
    }
  }
  return undefined;
}

export function saveGrantSecret(server: string, grantId: string, secret: string): void {
  const dir = serverFolder(server);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(root(), 0o700);
  const file = join(dir, fileName(grantId));
  writeFileSync(file, secret + '\n', { mode: 0o600 });
  chmodSync(file, 0o600);
}

export function forgetGrantSecret(server: string, grantId: string): void {
  for (const dir of [serverFolder(server), root()]) rmSync(join(dir, fileName(grantId)), { force: true });
}

/** Removes the kept secrets of this server's grants that are no longer active; returns the grant ids removed. */
export function pruneGrantSecrets(server: string, activeGrantIds: Iterable<string>): string[] {
  const active = new Set(activeGrantIds);
  const removed: string[] = [];
  for (const dir of [serverFolder(server), root()]) {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      continue;
    }
    for (const name of names) {
      const id = name.endsWith('.secret') ? name.slice(0, -'.secret'.length) : null;
      if (!id || active.has(id)) continue;
      rmSync(join(dir, name), { force: true });
      removed.push(id);
    }
  }
  return removed;
}
