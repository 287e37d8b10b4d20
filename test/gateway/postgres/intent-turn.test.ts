import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { IntentLog, segmentFiles } from '../../../src/audit/intent-log.js';
import { systemClock } from '../../../src/core/clock.js';
import type { ControlPlanePort } from '../../../src/gateway/kernel/port.js';
import { Backend } from '../../../src/gateway/postgres/protocol/codes.js';
import * as msg from '../../../src/gateway/postgres/protocol/messages.js';
import { NOT_SENT } from '../../../src/gateway/postgres/response-tracker.js';
import { admin } from './pg-fixture.js';
import { startHarness, type Harness } from './harness.js';
import { RawClient } from './raw-client.js';
import * as wire from '../../security/wire.js';

/**
 * Write-ahead intents, one write per event-loop turn: the statements of all
 * sessions handled in one turn are put on record together, and none of
 * them reaches the upstream before that write is in the OS's hands.
 */

/** A TCP tap in front of PostgreSQL that notes each marker it forwards, and whether its intent was in the log file by then. */
async function tap(dir: string) {
  const seen: { marker: string; intentOnDisk: boolean }[] = [];
  const server = net.createServer((client) => {
    const upstream = net.connect({ host: '127.0.0.1', port: 5432 });
    client.on('data', (chunk) => {
      for (const m of chunk.toString('latin1').matchAll(/mark_[a-z0-9_]+/g)) {
        const onDisk = segmentFiles(dir)
          .map((f) => readFileSync(f, 'utf8'))
          .join('');
        seen.push({ marker: m[0], intentOnDisk: onDisk.includes(m[0]) });
      }
      upstream.write(chunk);
    });
    upstream.pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
    client.on('error', () => undefined);
    upstream.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { seen, port: (server.address() as net.AddressInfo).port, close: () => new Promise<void>((r) => server.close(() => r())) };
}

describe('write-ahead intents of one turn', () => {
  let h: Harness;
  let dir: string;
  let log: IntentLog;
  let proxy: Awaited<ReturnType<typeof tap>>;
  beforeEach(async () => {
    h = await startHarness();
    dir = mkdtempSync(join(tmpdir(), 'airlock-intent-turn-'));
    log = new IntentLog({ dir, clock: systemClock });
    // As the real control plane does: deferred intents wait in memory until a session asks whether they are written.
    const port: ControlPlanePort = h.backend;
    port.intend = (i) => (i.deferred ? log.queue(i.sessionId, i.text) : log.intend(i.sessionId, i.text));
    port.intentsWritten = (id) => log.written(id);
    proxy = await tap(dir);
  });
  afterEach(async () => {
    await h?.close();
    await proxy?.close();
    log?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function session(allow: ('read' | 'write')[]) {
    const g = h.grant(allow);
    // The same grant, with its upstream behind the tap.
    const { grantId, secret } = h.backend.issue({ user: g.user, resource: h.resource, allow, target: { ...h.db.target, port: proxy.port } });
    const c = await RawClient.signIn(h.port, g.user, h.resource, secret);
    return { c, grantId };
  }

  it('go out in one write, and no statement reaches the upstream before its intent is in the file', async () => {
    const a = await session(['read']);
    const b = await session(['read']);
    const writes = log.writes;
    // Both arrive before the gateway's next poll: one turn handles both.
    a.c.socket.write(msg.query("select 'mark_a1'"));
    b.c.socket.write(msg.query("select 'mark_b1'"));
    await Promise.all([a.c.untilReady(), b.c.untilReady()]);
    expect(log.writes).toBe(writes + 1);
    // A pipelined burst in extended protocol: each Execute's intent is in the file before the batch goes out.
    a.c.socket.write(
      Buffer.concat([
        wire.parse('', "select 'mark_a2'"),
        wire.bind('', ''),
        wire.execute(''),
        wire.parse('', "select 'mark_a3'"),
        wire.bind('', ''),
        wire.execute(''),
        wire.sync(),
      ]),
    );
    await a.c.untilReady();
    expect(proxy.seen.map((s) => s.marker).sort()).toEqual(['mark_a1', 'mark_a2', 'mark_a3', 'mark_b1']);
    expect(proxy.seen.filter((s) => !s.intentOnDisk)).toEqual([]);
  });

  it('a turn whose intents cannot be written forwards none of its statements and closes the session', async () => {
    const a = await session(['read', 'write']);
    const table = `${h.db.schema}.orders`;
    (h.backend as ControlPlanePort).intentsWritten = () => false;
    a.c.socket.write(msg.query(`insert into ${table} values (4242, 'mark_lost')`));
    const frames = await a.c.untilClosed();
    const errors = frames.filter((f) => f.type === Backend.ErrorResponse).map((f) => msg.parseErrorFields(f.body).message);
    expect(errors).toEqual([expect.stringMatching(/audit log cannot be written/)]);
    expect(proxy.seen.map((s) => s.marker)).not.toContain('mark_lost');
    expect((await admin((c) => c.query(`select 1 from ${table} where id = 4242`))).rowCount).toBe(0);
    await h.backend.until(() => h.backend.ended.length === 1);
    expect(h.backend.ended[0]).toMatchObject({ reason: 'error' });
    // The audit says what happened: never sent, so it did not run (not "may or may not have run").
    const lost = h.backend.statements.filter((s) => s.text.includes('mark_lost'));
    expect(lost).toEqual([expect.objectContaining({ outcome: 'refused', reason: NOT_SENT })]);
  });
});
