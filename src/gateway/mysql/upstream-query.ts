import { MysqlGatewayError } from './errors.js';
import { Capability, Command, Header, MAX_PACKET_PAYLOAD, ServerStatus } from './protocol/codes.js';
import { decodeErr, decodeOk, eofStatus } from './protocol/messages.js';
import type { PacketChannel } from './protocol/packet-channel.js';
import { PayloadReader } from './protocol/payload.js';

/**
 * The gateway's own text queries on an upstream connection (session setup,
 * `KILL QUERY` on a side connection): rows as strings, errors as thrown
 * MysqlGatewayError with the upstream's code. Never used for client traffic.
 */

export interface QueryResult {
  readonly rows: (string | null)[][];
  readonly affectedRows: number;
}

export class UpstreamQueryError extends MysqlGatewayError {
  constructor(
    readonly upstreamCode: number,
    readonly upstreamSqlstate: string,
    message: string,
  ) {
    super('upstream_protocol', message);
  }
}

const isEnd = (payload: Buffer): boolean => payload[0] === Header.Eof && payload.length < MAX_PACKET_PAYLOAD;

export async function upstreamQuery(channel: PacketChannel, capabilities: number, sql: string): Promise<QueryResult> {
  channel.resetSeq();
  channel.send(Buffer.concat([Buffer.from([Command.Query]), Buffer.from(sql, 'utf8')]));
  const deprecateEof = (capabilities & Capability.DeprecateEof) !== 0;
  const rows: (string | null)[][] = [];
  let affectedRows = 0;
  for (;;) {
    const first = await channel.read();
    const head = first.payload[0];
    if (head === Header.Err) {
      const err = decodeErr(first.payload);
      throw new UpstreamQueryError(err.code, err.sqlstate, `upstream error ${err.code} (${err.sqlstate}): ${err.message}`);
    }
    let status: number;
    if (head === Header.Ok) {
      const ok = decodeOk(first.payload);
      affectedRows += ok.affectedRows;
      status = ok.status;
    } else if (head === Header.LocalInfile) {
      throw new MysqlGatewayError('upstream_protocol', 'the upstream asked for a local file; refused');
    } else {
      const columns = new PayloadReader(first.payload).lenencNumber('column count');
      for (let i = 0; i < columns; i++) await channel.read();
      if (!deprecateEof) await channel.read();
      for (;;) {
        const row = await channel.read();
        if (row.payload[0] === Header.Err) {
          const err = decodeErr(row.payload);
          throw new UpstreamQueryError(err.code, err.sqlstate, `upstream error ${err.code} (${err.sqlstate}): ${err.message}`);
        }
        if (isEnd(row.payload)) {
          status = deprecateEof ? decodeOk(row.payload).status : eofStatus(row.payload);
          break;
        }
        const r = new PayloadReader(row.payload);
        const values: (string | null)[] = [];
        for (let i = 0; i < columns; i++) {
          const length = r.lenenc();
          values.push(length === null ? null : r.bytes(length).toString('utf8'));
        }
        rows.push(values);
      }
    }
    if (!(status & ServerStatus.MoreResultsExist)) return { rows, affectedRows };
  }
}
