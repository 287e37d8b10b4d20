import { afterEach, beforeEach, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.js';
import { issueToken } from '../../src/core/tokens.js';
import { parseConfig } from '../../src/config/load.js';
import { createApiClient } from '../../src/server/api-client.js';
import { startControlPlane, type RunningControlPlane } from '../../src/server/start.js';
import { tempConfig } from '../support/cli.js';
import { EXAMPLE_CONFIG } from '../support/world.js';
import { startReceiver, type Receiver } from './receiver.js';

let receiver: Receiver;
let cp: RunningControlPlane;
let tmp: ReturnType<typeof tempConfig>;

beforeEach(async () => {
  receiver = await startReceiver();
  const yaml = `${EXAMPLE_CONFIG}\nnotify:\n  - { kind: slack, url_env: SLACK_WEBHOOK_URL, events: [request.created, grant.activated, grant.ended] }\n`;
  tmp = tempConfig(yaml);
  const logs: string[] = [];
  cp = await startControlPlane(parseConfig(yaml, 'airlock.yaml', tmp.dir), {
    clock: new ManualClock('2026-03-01T14:00:00Z'),
    listen: '127.0.0.1:0',
    notify: { env: { SLACK_WEBHOOK_URL: receiver.url }, log: (l) => logs.push(l) },
  });
});

afterEach(async () => {
  await cp.close();
  await receiver.close();
  tmp.cleanup();
});

it('posts the subscribed events to Slack as readable lines, addressed to the reviewers', async () => {
  const token = async (u: string) => createApiClient(cp.url, (await issueToken(cp.store, cp.clock, cp.directory, u)).token);
  const alice = await token('alice');
  const bob = await token('bob');
  const asked = await alice.request({ resource: 'orders-db', role: 'write', duration: '30m', reason: 'slow checkout', ticket: 'INC-4411' });
  const { grant } = await bob.approve(asked.request.id);
  await bob.revoke(grant!.id, 'done');
  await cp.notifier.worker.idle();
  await receiver.until(3);
  const texts = receiver.deliveries.map((d) => (JSON.parse(d.body) as { text: string }).text);
  expect(texts).toEqual([
    `:raising_hand: alice asks for WRITE on orders-db for 30m — INC-4411 slow checkout (request ${asked.request.id}). Reviewers: bob, carol, dave, root.`,
    ':unlock: alice has WRITE on orders-db until 14:30 UTC — INC-4411 slow checkout, approved by bob',
    ":lock: bob revoked alice's WRITE on orders-db: done",
  ]);
  // Slack gets no signature or event-id headers (it would not read them); the URL never lands in the outbox.
  expect(receiver.deliveries[0]!.headers['x-airlock-signature']).toBeUndefined();
  expect(JSON.stringify(await cp.store.db.selectFrom('outbox').selectAll().execute())).not.toContain(receiver.url);
});
