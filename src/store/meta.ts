import { randomBytes } from 'node:crypto';
import type { Executor } from './store.js';

/** A random server-side key, made once per store and kept in it (e.g. the grant salt key). */
export async function serverKey(db: Executor, name: string): Promise<Buffer> {
  const key = `key:${name}`;
  const existing = await db.selectFrom('meta').select('value').where('key', '=', key).executeTakeFirst();
  if (existing) return Buffer.from(existing.value, 'base64');
  const value = randomBytes(32).toString('base64');
  await db.insertInto('meta').values({ key, value }).onConflict((oc) => oc.column('key').doNothing()).execute();
  const stored = await db.selectFrom('meta').select('value').where('key', '=', key).executeTakeFirstOrThrow();
  return Buffer.from(stored.value, 'base64');
}
