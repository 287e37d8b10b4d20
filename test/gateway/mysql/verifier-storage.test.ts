import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { decodeMysqlVerifiers, mysqlVerifiers } from '../../../src/core/mysql-verifiers.js';
import { activeGrantVerifiers } from '../../../src/store/grants.js';
import { createWorld, type World } from '../../support/world.js';

describe('a grant secret is stored for MySQL only as verifiers', () => {
  let w: World;
  beforeEach(async () => {
    w = await createWorld();
  });
  afterEach(async () => w?.close());

  it('issuing a secret stores SHA1(SHA1()) and SHA256(SHA256()) of it beside the SCRAM verifier, never the secret; ending the grant clears both', async () => {
    const { grant } = await w.lifecycle.request(w.user('alice'), { resource: 'orders-db', role: 'read', durationSeconds: 600 });
    const { secret } = await w.lifecycle.issueSecret(w.user('alice'), grant!.id);
    const [active] = await activeGrantVerifiers(w.store.db, 'alice', 'orders-db', w.clock.now());
    expect(active!.mysqlVerifiers).toMatch(/^mysql\$[0-9a-f]{40}\$[0-9a-f]{64}$/);
    expect(decodeMysqlVerifiers(active!.mysqlVerifiers!)).toEqual(mysqlVerifiers(secret));
    const row = await w.store.db.selectFrom('grants').selectAll().where('id', '=', grant!.id).executeTakeFirstOrThrow();
    expect(JSON.stringify(row)).not.toContain(secret);
    await w.lifecycle.revoke(w.user('root'), grant!.id, 'done');
    const ended = await w.store.db.selectFrom('grants').selectAll().where('id', '=', grant!.id).executeTakeFirstOrThrow();
    expect(ended.mysql_verifiers).toBeNull();
    expect(ended.secret_verifier).toBeNull();
  });
});
