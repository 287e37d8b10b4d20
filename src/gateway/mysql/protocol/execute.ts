import { protocolViolation } from '../errors.js';
import { PayloadReader } from './payload.js';

/**
 * COM_STMT_EXECUTE: statement id, cursor flags, and the bound parameters,
 * decoded for the audit (peers record the statement text and drop the
 * values). Parameter types come with the packet when `new_params_bound` is
 * 1, otherwise from the previous execute of the same statement; parameters
 * sent with COM_STMT_SEND_LONG_DATA are not in the packet.
 */

export const FieldType = {
  Decimal: 0,
  Tiny: 1,
  Short: 2,
  Long: 3,
  Float: 4,
  Double: 5,
  Null: 6,
  Timestamp: 7,
  LongLong: 8,
  Int24: 9,
  Date: 10,
  Time: 11,
  DateTime: 12,
  Year: 13,
  NewDate: 14,
  Varchar: 15,
  Bit: 16,
  Json: 245,
  NewDecimal: 246,
  Enum: 247,
  Set: 248,
  TinyBlob: 249,
  MediumBlob: 250,
  LongBlob: 251,
  Blob: 252,
  VarString: 253,
  String: 254,
  Geometry: 255,
} as const;

export const CursorFlag = { ReadOnly: 1, ForUpdate: 2, Scrollable: 4 } as const;

/** A parameter type as sent: the type byte and the unsigned flag (0x80 in the second byte). */
export interface ParamType {
  readonly type: number;
  readonly unsigned: boolean;
}

/** A bound value as the audit keeps it: numbers and strings as text, binary as `0x…`, NULL as null. */
export type ParamValue = string | number | null;

export interface ExecuteRequest {
  readonly statementId: number;
  readonly flags: number;
  readonly params: readonly ParamValue[];
  /** The types in force for this statement after this packet (for the next execute). */
  readonly types: readonly ParamType[];
}

const pad = (n: number, width = 2): string => String(n).padStart(width, '0');

function temporal(r: PayloadReader, type: number): string {
  const length = r.u8();
  const body = new PayloadReader(r.bytes(length));
  if (type === FieldType.Time) {
    if (length === 0) return '00:00:00';
    const negative = body.u8() === 1;
    const days = body.u32();
    const h = body.u8() + days * 24;
    const m = body.u8();
    const s = body.u8();
    const micro = length >= 12 ? `.${pad(body.u32(), 6)}` : '';
    return `${negative ? '-' : ''}${pad(h)}:${pad(m)}:${pad(s)}${micro}`;
  }
  if (length === 0) return '0000-00-00';
  const date = `${pad(body.u16(), 4)}-${pad(body.u8())}-${pad(body.u8())}`;
  if (length < 7) return date;
  const time = `${pad(body.u8())}:${pad(body.u8())}:${pad(body.u8())}`;
  return length >= 11 ? `${date} ${time}.${pad(body.u32(), 6)}` : `${date} ${time}`;
}

function value(r: PayloadReader, t: ParamType, maxTextChars: number): ParamValue {
  switch (t.type) {
    case FieldType.Null:
      return null;
    case FieldType.Tiny: {
      const v = r.u8();
      return t.unsigned ? v : (v << 24) >> 24;
    }
    case FieldType.Short:
    case FieldType.Year: {
      const v = r.u16();
      return t.unsigned ? v : (v << 16) >> 16;
    }
    case FieldType.Long:
    case FieldType.Int24: {
      const v = r.u32();
      return t.unsigned ? v : v | 0;
    }
    case FieldType.LongLong: {
      const v = r.u64();
      return (t.unsigned ? v : BigInt.asIntN(64, v)).toString();
    }
    case FieldType.Float:
      return r.bytes(4).readFloatLE(0);
    case FieldType.Double:
      return r.bytes(8).readDoubleLE(0);
    case FieldType.Date:
    case FieldType.DateTime:
    case FieldType.Timestamp:
    case FieldType.Time:
      return temporal(r, t.type);
    default: {
      const bytes = r.lenencBytes('parameter value');
      const binary = t.type === FieldType.Blob || t.type === FieldType.TinyBlob || t.type === FieldType.MediumBlob || t.type === FieldType.LongBlob || t.type === FieldType.Geometry || t.type === FieldType.Bit;
      const text = binary && !isPrintable(bytes) ? `0x${bytes.subarray(0, maxTextChars / 2).toString('hex')}` : bytes.toString('utf8', 0, Math.min(bytes.length, maxTextChars * 4));
      return text.length > maxTextChars ? `${text.slice(0, maxTextChars)}…` : text;
    }
  }
}

function isPrintable(b: Buffer): boolean {
  for (const c of b) if (c < 0x09 || (c > 0x0d && c < 0x20)) return false;
  return true;
}

/**
 * Decodes one COM_STMT_EXECUTE payload (command byte included) for a
 * statement with `paramCount` parameters. Throws a protocol violation on
 * malformed bytes.
 */
export function decodeExecute(
  payload: Buffer,
  paramCount: number,
  previousTypes: readonly ParamType[] | undefined,
  longData: ReadonlySet<number>,
  maxTextChars = 256,
): ExecuteRequest {
  const r = new PayloadReader(payload, 1);
  const statementId = r.u32();
  const flags = r.u8();
  r.u32();
  if (paramCount === 0) return { statementId, flags, params: [], types: [] };
  const nullBitmap = r.bytes((paramCount + 7) >> 3);
  const newParamsBound = r.u8();
  let types = previousTypes;
  if (newParamsBound === 1) {
    const fresh: ParamType[] = [];
    for (let i = 0; i < paramCount; i++) {
      const type = r.u8();
      fresh.push({ type, unsigned: (r.u8() & 0x80) !== 0 });
    }
    types = fresh;
  }
  if (!types || types.length !== paramCount) throw protocolViolation('COM_STMT_EXECUTE without parameter types for a statement never executed with them');
  const params: ParamValue[] = [];
  for (let i = 0; i < paramCount; i++) {
    if (nullBitmap[i >> 3]! & (1 << (i & 7))) params.push(null);
    else if (longData.has(i)) params.push('<sent as long data>');
    else params.push(value(r, types[i]!, maxTextChars));
  }
  return { statementId, flags, params, types };
}
