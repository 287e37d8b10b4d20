import net from 'node:net';

/** Sends bytes exactly as written on one TCP connection and collects everything the gateway answers until it closes. */
export function rawExchange(port: number, bytes: string | Buffer, opts: { endAfterMs?: number } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', reject);
    socket.on('close', () => resolve(Buffer.concat(chunks).toString('latin1')));
    socket.write(bytes);
    // Ends our side once the gateway has had time to answer what it will (keep-alive would otherwise hold it open).
    setTimeout(() => socket.end(), opts.endAfterMs ?? 400).unref();
  });
}

/** Status codes of each response in a raw answer, in order. */
export function statuses(answer: string): number[] {
  return [...answer.matchAll(/^HTTP\/1\.1 (\d{3})/gm)].map((m) => Number(m[1]));
}
