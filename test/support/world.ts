import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../../src/core/clock.js';
import { createEventBus, type AirlockEvent } from '../../src/core/events.js';
import { startExpiryScheduler } from '../../src/core/expiry.js';
import { createLifecycle } from '../../src/core/lifecycle.js';
import type { User } from '../../src/core/model.js';
import { parseConfig } from '../../src/config/load.js';
import { serverKey } from '../../src/store/meta.js';
import { openStore, type Store } from '../../src/store/store.js';

export const EXAMPLE_CONFIG = `
review_timeout: 30m
users:
  - { name: alice, groups: [oncall, engineering] }
  - { name: bob,   groups: [sre-leads, engineering] }
  - { name: carol, groups: [sre-leads] }
  - { name: dave,  groups: [sre-leads] }
  - { name: root,  groups: [airlock-admins] }
admins: { groups: [airlock-admins] }
resources:
  - name: orders-db
    kind: postgres
    upstream: { host: 127.0.0.1, port: 5432, database: orders }
    labels: { env: prod, team: payments }
    max_duration: 4h
    roles:
      read:
        credential: { user: orders_ro, password_env: ORDERS_RO_PASSWORD }
        allow: [read]
        tables: ["public.*"]
        deny_tables: ["public.payment_tokens"]
      write:
        credential: { user: orders_rw, password_env: ORDERS_RW_PASSWORD }
        allow: [read, write]
      admin:
        credential: { user: postgres }
        allow: [read, write, ddl, admin]
        max_duration: 30m
policies:
  - name: oncall-reads-prod
    who: { groups: [oncall] }
    resources: { labels: { env: prod } }
    roles: [read]
    max_duration: 1h
    approval: none
  - name: writes-need-a-lead
    who: { groups: [engineering] }
    resources: { names: [orders-db] }
    roles: [write]
    max_duration: 2h
    approval: { count: 1, from: { groups: [sre-leads] } }
    require: { reason: true, ticket: "^(INC|CHG)-[0-9]+$" }
  - name: admin-needs-two
    who: { groups: [sre-leads, engineering] }
    resources: { names: [orders-db] }
    roles: [admin]
    approval: { count: 2, from: { groups: [sre-leads] } }
`;

/** A whole control plane on a temp store (SQLite unless told) and a manual clock: the domain as users drive it, minus HTTP. */
export async function createWorld(configText = EXAMPLE_CONFIG, opts: { readonly storeUrl?: string } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'airlock-test-'));
  const config = parseConfig(configText, 'airlock.yaml', dir);
  // A store of the dialect matrix (test/support/stores.ts) when given; a SQLite file in the world's folder by default.
  const store: Store = await openStore(opts.storeUrl ?? 'sqlite:airlock.db', dir);
  const clock = new ManualClock('2026-03-01T12:00:00Z');
  const bus = createEventBus((err) => {
    throw err;
  });
  const events: AirlockEvent[] = [];
  bus.subscribe((e) => events.push(e));
  const saltKey = await serverKey(store.db, 'grant-salt');
  const lifecycle = createLifecycle({ store, clock, bus, directory: config.directory, saltKey });
  const expiry = startExpiryScheduler(clock, bus, lifecycle, (err) => {
    throw err;
  });
  await expiry.kick();
  const user = (name: string): User => {
    const u = config.directory.users.get(name);
    if (!u) throw new Error(`no user ${name} in the test config`);
    return u;
  };
  return {
    dir,
    config,
    store,
    clock,
    bus,
    events,
    lifecycle,
    expiry,
    user,
    /** Moves the clock and waits for the expiry runs it triggered. */
    async advance(ms: number) {
      clock.advance(ms);
      await expiry.idle();
    },
    async close() {
      expiry.stop();
      await expiry.idle();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export type World = Awaited<ReturnType<typeof createWorld>>;
