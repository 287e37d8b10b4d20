import { loginUpstream, type MysqlUpstreamTarget } from './upstream-login.js';
import { upstreamQuery } from './upstream-query.js';

/**
 * Stops what a session's upstream connection is running: a side connection
 * with the same credential runs `KILL QUERY <thread id>`, so a cut session's
 * statement does not go on after its socket is gone. Closing the socket
 * alone leaves the query running until it next writes to the network.
 */
export async function killQuery(target: MysqlUpstreamTarget, threadId: number): Promise<void> {
  const side = await loginUpstream(target, { clientCapabilities: 0, maxPayload: 1 << 20, connectTimeoutMs: 2_000 });
  try {
    await upstreamQuery(side.channel, side.capabilities, `KILL QUERY ${Math.trunc(threadId)}`);
  } finally {
    side.socket.destroy();
  }
}
