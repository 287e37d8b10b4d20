import { randomBytes } from 'node:crypto';

export type IdKind = 'req' | 'grt' | 'ses' | 'tok';

/** Short, typed, unguessable ids: `grt_3fa9c2d81b7e`. The prefix tells a reader what the id names. */
export function newId(kind: IdKind): string {
  return `${kind}_${randomBytes(6).toString('hex')}`;
}
