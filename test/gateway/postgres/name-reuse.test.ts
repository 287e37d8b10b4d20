import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Frame } from '../../../src/gateway/postgres/protocol/reader.js';
import * as msg from '../../../src/gateway/postgres/protocol/messages.js';
import { loadSqlParser } from '../../../src/gateway/postgres/sql/check.js';
import * as wire from '../../security/wire.js';
import { startHarness, type Harness } from './harness.js';
import { RawClient } from './raw-client.js';

/**
 * The audit must say what ran. The gateway's view of prepared statements and
 * portals follows what the upstream (a real PostgreSQL) accepted, not what
 * the client asked for: `Parse("h", A)`, `Sync`, `Parse("h", B)` (refused:
 * "h" exists), `Bind("", "h")`, `Execute` runs A, and used to be recorded as
 * B. Each sequence is sent with a raw protocol client, both one message
 * batch at a time and pipelined in a single write (the gateway then has to
 * wait for the upstream's answers before it can tell what a name holds).
 */

const A = "select 'A-ran' as v";
const B = "select 'B-ran' as v";
const C = "select 'C-ran' as v";

/** Text values of every DataRow's first column, and every error message, in order. */
function answers(frames: Frame[]): string[] {
  const out: string[] = [];
  for (const f of frames) {
    if (f.type === 0x44 /* D */) {
      const len = f.body.readInt32BE(2);
      out.push(len < 0 ? 'NULL' : f.body.toString('utf8', 6, 6 + len));
    } else if (f.type === 0x45 /* E */) {
      out.push(`error: ${msg.parseErrorFields(f.body).message}`);
    }
  }
  return out;
}

describe('statement and portal names follow what the upstream accepted', () => {
  let h: Harness;
  let who: { user: string; secret: string };
  let client: RawClient;

  beforeAll(async () => {
    await loadSqlParser();
    h = await startHarness();
    who = h.grant(['read']);
  });
  afterAll(async () => h?.close());
  beforeEach(async () => {
    client?.socket.destroy();
    client = await RawClient.signIn(h.port, who.user, h.resource, who.secret);
    h.backend.statements.length = 0;
  });

  /** Sends each batch and reads its answers up to ReadyForQuery, or all batches in one write (`pipelined`). */
  async function run(batches: Buffer[][], pipelined: boolean): Promise<string[]> {
    const out: string[] = [];
    if (pipelined) client.socket.write(Buffer.concat(batches.flat()));
    for (const batch of batches) {
      if (!pipelined) client.socket.write(Buffer.concat(batch));
      out.push(...answers(await client.untilReady()));
    }
    return out;
  }

  /** Audit records of statements that ran (outcome ok), by text. */
  const ranTexts = () => h.backend.statements.filter((s) => s.outcome === 'ok').map((s) => s.text);

  for (const pipelined of [false, true]) {
    const how = pipelined ? 'pipelined' : 'batch by batch';

    it(`records A, not B, when Parse reuses a name the upstream still holds (${how})`, async () => {
      const got = await run(
        [
          [wire.parse('h', A), wire.sync()],
          [wire.parse('h', B), wire.sync()],
          [wire.bind('', 'h'), wire.execute(''), wire.sync()],
        ],
        pipelined,
      );
      expect(got).toEqual(['error: prepared statement "h" already exists', 'A-ran']);
      expect(ranTexts()).toEqual([A]);
    });

    it(`records nothing of B when the refused Parse and the Execute share a batch (${how})`, async () => {
      const got = await run([[wire.parse('h', A), wire.sync()], [wire.parse('h', B), wire.bind('', 'h'), wire.execute(''), wire.sync()]], pipelined);
      expect(got).toEqual(['error: prepared statement "h" already exists']);
      expect(ranTexts()).toEqual([]);
    });

    it(`forgets the unnamed statement when the upstream refuses a new one, as PostgreSQL does (${how})`, async () => {
      const got = await run(
        [
          [wire.parse('', A), wire.sync()],
          [wire.parse('', 'select from where'), wire.sync()],
          [wire.bind('', ''), wire.execute(''), wire.sync()],
        ],
        pipelined,
      );
      expect(got[0]).toMatch(/^error: syntax error/);
      expect(got[1]).toMatch(/^error: (airlock: prepared statement "" was not allowed|unnamed prepared statement does not exist)/);
      expect(ranTexts()).toEqual([]);
    });

    it(`does not run a WITH HOLD cursor under the text of a Bind the upstream refused for its name (${how})`, async () => {
      const got = await run(
        [
          [wire.query(`declare h cursor with hold for ${C}`)],
          [wire.parse('s', B), wire.bind('h', 's'), wire.sync()],
          [wire.execute('h'), wire.sync()],
        ],
        pipelined,
      );
      expect(got[0]).toBe('error: cursor "h" already exists');
      // Either refused by the gateway or run as the cursor it is — never recorded as B.
      expect(got).not.toContain('B-ran');
      if (got.includes('C-ran')) expect(ranTexts()).not.toContain(B);
      expect(ranTexts().filter((t) => t === B)).toEqual([]);
      expect(got[1]).toMatch(/^error: airlock: portal "h"/);
    });

    it(`does not run a cursor declared under the name of a portal that ended with its transaction (${how})`, async () => {
      const got = await run(
        [[wire.parse('s', A), wire.bind('p', 's'), wire.sync()], [wire.query(`declare p cursor with hold for ${C}`)], [wire.execute('p'), wire.sync()]],
        pipelined,
      );
      expect(got).not.toContain('C-ran');
      expect(got.at(-1)).toMatch(/^error: airlock: portal "p"/);
      expect(ranTexts().filter((t) => t === A)).toEqual([]);
    });

    it(`follows a portal closed and declared again by SQL inside a transaction (${how})`, async () => {
      const got = await run(
        [
          [wire.query('begin')],
          [wire.parse('s', A), wire.bind('p', 's'), wire.execute('p', 1), wire.sync()],
          [wire.query('close p')],
          [wire.query(`declare p cursor for ${C}`)],
          [wire.execute('p'), wire.sync()],
          [wire.query('rollback')],
        ],
        pipelined,
      );
      expect(got.slice(0, 1)).toEqual(['A-ran']);
      expect(got).not.toContain('C-ran');
      expect(got.find((a) => a.startsWith('error: airlock: portal "p"'))).toBeDefined();
      expect(ranTexts().filter((t) => t === A)).toHaveLength(1);
    });

    it(`keeps the other statements usable after a DEALLOCATE of one, and follows a re-Parse (${how})`, async () => {
      const got = await run(
        [
          [wire.parse('h1', A), wire.parse('h2', B), wire.sync()],
          [wire.query('deallocate h1')],
          [wire.bind('', 'h2'), wire.execute(''), wire.sync()],
          [wire.parse('h1', C), wire.bind('', 'h1'), wire.execute(''), wire.sync()],
        ],
        pipelined,
      );
      expect(got).toEqual(['B-ran', 'C-ran']);
      expect(ranTexts()).toEqual(['deallocate h1', B, C]);
    });

    it(`follows Close of a statement and a new Parse of its name in one batch (${how})`, async () => {
      const got = await run([[wire.parse('h', A), wire.sync()], [wire.close('S', 'h'), wire.parse('h', B), wire.bind('', 'h'), wire.execute(''), wire.sync()]], pipelined);
      expect(got).toEqual(['B-ran']);
      expect(ranTexts()).toEqual([B]);
    });
  }

  it('refuses, in the same batch, a name an earlier Execute may have changed by SQL', async () => {
    const got = await run([[wire.parse('h', A), wire.sync()], [wire.parse('d', 'deallocate h'), wire.bind('', 'd'), wire.execute(''), wire.bind('', 'h'), wire.execute(''), wire.sync()]], false);
    expect(got).toHaveLength(1);
    expect(got[0]).toMatch(/^error: airlock: prepared statement "h" may have been changed by an earlier statement in this batch/);
    expect(ranTexts()).toEqual(['deallocate h']);
  });
});
