import type net from 'node:net';
import { protocolViolation } from '../errors.js';
import { encodePacket, type Packet, PacketFramer } from './framer.js';

/**
 * Pull-style packet reads over a socket for the request/response phases
 * (handshake, authentication, the gateway's own upstream queries), where
 * `await read()` reads better than a state machine. `detach()` hands the
 * socket and unread bytes to the next owner (TLS, or the relay).
 */
export class PacketChannel {
  private readonly framer: PacketFramer;
  private waiter: (() => void) | null = null;
  private failure: Error | null = null;
  /** Sequence id the next packet this side sends carries. */
  seq = 0;

  constructor(
    readonly socket: net.Socket,
    maxPayload: number,
    private readonly onLost: (why: string) => Error,
  ) {
    this.framer = new PacketFramer(maxPayload);
    socket.on('data', this.onData);
    socket.on('error', this.onError);
    socket.on('close', this.onClose);
    socket.resume();
  }

  private readonly onData = (chunk: Buffer) => {
    this.framer.push(chunk);
    this.wake();
  };
  private readonly onError = (err: NodeJS.ErrnoException) => {
    this.failure ??= this.onLost(err.code ?? err.message);
    this.wake();
  };
  private readonly onClose = () => {
    this.failure ??= this.onLost('connection closed');
    this.wake();
  };

  private wake(): void {
    const w = this.waiter;
    this.waiter = null;
    w?.();
  }

  /**
   * The next packet; checks it carries the expected sequence id and sets the
   * reply's. Rejects when the socket fails or closes first, or on bad framing.
   */
  async read(): Promise<Packet> {
    for (;;) {
      const packet = this.framer.next();
      if (packet) {
        if (packet.seq !== this.seq) throw protocolViolation(`packet sequence id ${packet.seq} where ${this.seq} was expected`);
        this.seq = (packet.lastSeq + 1) & 0xff;
        return packet;
      }
      if (this.failure) throw this.failure;
      await new Promise<void>((resolve) => (this.waiter = resolve));
    }
  }

  /** True when bytes beyond the last packet read are waiting (e.g. sent before a TLS handshake). */
  get hasUnread(): boolean {
    return this.framer.buffered > 0;
  }

  send(payload: Buffer): void {
    const { bytes, nextSeq } = encodePacket(payload, this.seq);
    this.seq = nextSeq;
    this.socket.write(bytes);
  }

  /** Starts a new command exchange: the next packet sent or read carries id 0. */
  resetSeq(): void {
    this.seq = 0;
  }

  /** Stops listening; the socket is paused so no byte is lost before the next owner listens. */
  detach(): void {
    if (this.detachWithRest().length > 0) throw protocolViolation('unexpected bytes after the handshake');
  }

  /** As detach, handing over the bytes received past the last packet read. */
  detachWithRest(): Buffer {
    this.socket.pause();
    this.socket.off('data', this.onData);
    this.socket.off('error', this.onError);
    this.socket.off('close', this.onClose);
    return this.framer.takeRest();
  }
}
