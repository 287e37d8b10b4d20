import net from 'node:net';
import { Backend } from '../../../src/gateway/postgres/protocol/codes.js';
import * as msg from '../../../src/gateway/postgres/protocol/messages.js';
import { FrameReader, type Frame } from '../../../src/gateway/postgres/protocol/reader.js';
import { SocketPuller } from '../../../src/gateway/postgres/protocol/socket-puller.js';
import { ScramClient } from '../../../src/gateway/postgres/scram-client.js';

/** A hand-driven protocol client, for sending what real drivers never would. */
export class RawClient {
  readonly puller: SocketPuller;
  private constructor(readonly socket: net.Socket) {
    this.puller = new SocketPuller(socket, new FrameReader({ typed: true, maxLength: 1 << 26 }), (why) => new Error(`closed: ${why}`));
  }

  static async connect(port: number): Promise<RawClient> {
    const socket = net.connect({ host: '127.0.0.1', port });
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    return new RawClient(socket);
  }

  /** Signs in over SCRAM and waits for ReadyForQuery. */
  static async signIn(port: number, user: string, database: string, secret: string): Promise<RawClient> {
    const c = await RawClient.connect(port);
    c.socket.write(msg.startupMessage({ user, database }));
    const scram = new ScramClient(secret);
    for (;;) {
      const f = await c.next();
      if (f.type === Backend.ErrorResponse) throw new Error(msg.parseErrorFields(f.body).message);
      if (f.type === Backend.ReadyForQuery) return c;
      if (f.type !== Backend.Authentication) continue;
      const code = f.body.readInt32BE(0);
      if (code === 10) c.socket.write(msg.saslInitialResponse('SCRAM-SHA-256', scram.clientFirst()));
      if (code === 11) c.socket.write(msg.saslResponse(scram.clientFinal(f.body.subarray(4))));
      if (code === 12) scram.verifyServerFinal(f.body.subarray(4));
    }
  }

  next(): Promise<Frame> {
    return this.puller.next();
  }

  /** Frames until the server closes the connection. */
  async untilClosed(): Promise<Frame[]> {
    const frames: Frame[] = [];
    for (;;) {
      try {
        frames.push(await this.next());
      } catch {
        return frames;
      }
    }
  }

  /** Frames up to and including the next ReadyForQuery. */
  async untilReady(): Promise<Frame[]> {
    const frames: Frame[] = [];
    for (;;) {
      const f = await this.next();
      frames.push(f);
      if (f.type === Backend.ReadyForQuery) return frames;
    }
  }
}

export const errorOf = (frames: Frame[]) => {
  const e = frames.find((f) => f.type === Backend.ErrorResponse);
  return e ? msg.parseErrorFields(e.body) : undefined;
};

export const types = (frames: Frame[]) => frames.map((f) => String.fromCharCode(f.type)).join('');
