import type { User } from '../core/model.js';
import type { Executor } from './store.js';

/** A user who signed in through the identity provider, as of their last sign-in or refresh. */
export interface IdentityUser extends User {
  readonly subject: string;
  readonly updatedAt: Date;
}

export async function findIdentityUser(db: Executor, name: string): Promise<IdentityUser | undefined> {
  const row = await db.selectFrom('identity_users').selectAll().where('name', '=', name).executeTakeFirst();
  return row && { name: row.name, groups: JSON.parse(row.groups) as string[], subject: row.subject, updatedAt: new Date(row.updated_at) };
}

export async function saveIdentityUser(tx: Executor, u: { name: string; groups: readonly string[]; subject: string; at: Date }): Promise<void> {
  const values = { name: u.name, groups: JSON.stringify([...u.groups].sort()), subject: u.subject, updated_at: u.at.toISOString() };
  await tx
    .insertInto('identity_users')
    .values(values)
    .onConflict((oc) => oc.column('name').doUpdateSet({ groups: values.groups, subject: values.subject, updated_at: values.updated_at }))
    .execute();
}
