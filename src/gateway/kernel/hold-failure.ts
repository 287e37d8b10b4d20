import type net from 'node:net';

/**
 * Holds the answer to a failed sign-in for `ms` (the auth throttle's delay:
 * a guesser learns nothing faster), or until the client leaves. Shared by
 * the Postgres and MySQL adapters.
 */
export function holdFailure(socket: net.Socket, ms: number): Promise<void> {
  if (ms <= 0 || socket.destroyed) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(timer);
      socket.off('close', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    timer.unref();
    socket.once('close', done);
  });
}
