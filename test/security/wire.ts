/** Frontend message builders for sending what real drivers never would. */

function typed(type: string, ...parts: Buffer[]): Buffer {
  const body = Buffer.concat(parts);
  const head = Buffer.alloc(5);
  head.write(type, 0, 'latin1');
  head.writeInt32BE(body.length + 4, 1);
  return Buffer.concat([head, body]);
}

const cstr = (s: string) => Buffer.from(`${s}\0`, 'utf8');
const int16 = (n: number) => {
  const b = Buffer.alloc(2);
  b.writeInt16BE(n, 0);
  return b;
};
const int32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeInt32BE(n, 0);
  return b;
};

export const parse = (name: string, text: string) => typed('P', cstr(name), cstr(text), int16(0));
/** Bind with no parameters and text results. */
export const bind = (portal: string, statement: string) => typed('B', cstr(portal), cstr(statement), int16(0), int16(0), int16(0));
export const execute = (portal: string, maxRows = 0) => typed('E', cstr(portal), int32(maxRows));
export const describe = (kind: 'S' | 'P', name: string) => typed('D', Buffer.from(kind), cstr(name));
export const close = (kind: 'S' | 'P', name: string) => typed('C', Buffer.from(kind), cstr(name));
export const sync = () => typed('S');
export const flush = () => typed('H');
export const query = (text: string) => typed('Q', cstr(text));
export const copyData = (data: string) => typed('d', Buffer.from(data));
export const copyDone = () => typed('c');
/** FunctionCall: oid, no argument formats, the given text arguments, text result. */
export const functionCall = (oid: number, args: string[]) =>
  typed('F', int32(oid), int16(0), int16(args.length), ...args.flatMap((a) => [int32(Buffer.byteLength(a)), Buffer.from(a)]), int16(0));
export const raw = typed;
