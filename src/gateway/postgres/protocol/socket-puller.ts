import type net from 'node:net';
import type { Frame, FrameReader } from './reader.js';

/**
 * A pull-style reader over a socket's messages, for the short
 * request/response phases (startup, authentication) where `await next()`
 * reads better than a state machine. Once the phase is over, `detach()`
 * hands the socket and any unread bytes to the streaming code.
 */
export class SocketPuller {
  private waiter: (() => void) | null = null;
  private failure: Error | null = null;

  constructor(
    private readonly socket: net.Socket,
    readonly reader: FrameReader,
    private readonly onLost: (why: string) => Error,
  ) {
    socket.on('data', this.onData);
    socket.on('error', this.onError);
    socket.on('close', this.onClose);
  }

  private readonly onData = (chunk: Buffer) => {
    this.reader.push(chunk);
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

  /** The next frame; rejects when the socket fails or closes first, or the frame is malformed. */
  async next(): Promise<Frame> {
    for (;;) {
      const frame = this.reader.next();
      if (frame) return frame;
      if (this.failure) throw this.failure;
      await new Promise<void>((resolve) => (this.waiter = resolve));
    }
  }

  /** Stops listening; the socket is paused so no byte is lost before the next owner listens. */
  detach(): Buffer {
    this.socket.pause();
    this.socket.off('data', this.onData);
    this.socket.off('error', this.onError);
    this.socket.off('close', this.onClose);
    return this.reader.takeRest();
  }
}
