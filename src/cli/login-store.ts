import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { AirlockError } from '../core/errors.js';
import { serverUrl } from './server-url.js';

export interface Login {
  readonly server: string;
  readonly token: string;
}

export function configDir(): string {
  return join(process.env.XDG_CONFIG_HOME || join(homedir(), '.config'), 'airlock');
}

const loginFile = () => join(configDir(), 'login.json');

/** Saves the server and token readable by the owner only (0600, folder 0700). */
export function saveLogin(login: Login): string {
  const dir = configDir();
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = loginFile();
  writeFileSync(file, JSON.stringify(login, null, 2) + '\n', { mode: 0o600 });
  chmodSync(file, 0o600);
  return file;
}

/** A login and where each half came from, so an error can say which to check. */
export interface LoginSource extends Login {
  readonly serverFrom: string;
  readonly tokenFrom: string;
}

/** The login to use: AIRLOCK_SERVER / AIRLOCK_TOKEN override the saved file. */
export function currentLogin(): LoginSource {
  let saved: Partial<Login> = {};
  try {
    saved = JSON.parse(readFileSync(loginFile(), 'utf8')) as Partial<Login>;
  } catch {
    // no saved login: the environment must provide it
  }
  const server = process.env.AIRLOCK_SERVER || saved.server;
  const token = process.env.AIRLOCK_TOKEN || saved.token;
  if (!server || !token) {
    throw new AirlockError('not_logged_in', 'unauthenticated', 'not logged in: run `airlock login --server URL --token TOKEN` (or set AIRLOCK_SERVER and AIRLOCK_TOKEN)');
  }
  const serverFrom = process.env.AIRLOCK_SERVER ? 'AIRLOCK_SERVER' : loginFile();
  return {
    server: serverUrl(server, serverFrom),
    token,
    serverFrom,
    tokenFrom: process.env.AIRLOCK_TOKEN ? 'the API token in AIRLOCK_TOKEN' : `the API token saved in ${loginFile()}`,
  };
}

/** Forgets the saved token (keeps the server), so the next command asks to log in again. */
export function forgetLogin(): string | null {
  try {
    const saved = JSON.parse(readFileSync(loginFile(), 'utf8')) as Partial<Login>;
    writeFileSync(loginFile(), JSON.stringify({ server: saved.server }, null, 2) + '\n', { mode: 0o600 });
    return saved.token ?? null;
  } catch {
    return null;
  }
}
