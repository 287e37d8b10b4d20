import http from 'node:http';

/**
 * A script's HTTP client through the gateway, as `airlock connect --print`
 * describes it: Basic auth with the Airlock user and grant secret, Host
 * naming the resource (`<resource>.localhost`), one keep-alive connection so
 * its requests make one session.
 */
export interface GatewayClient {
  /** `METHOD /path`; resolves with status and body. */
  send(request: string, body?: string): Promise<{ status: number; body: string }>;
  /** Reads a server-sent event stream until the connection ends; resolves with everything read. */
  stream(path: string): Promise<string>;
  /** Sends a request and closes the connection as soon as it is written. */
  sendAndLeave(request: string, body?: string): Promise<void>;
  close(): void;
}

export function gatewayClient(gateway: { host: string; port: number }, user: string, secret: string, resource: string): GatewayClient {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const headers = (body?: string): http.OutgoingHttpHeaders => ({
    host: `${resource}.localhost:${gateway.port}`,
    authorization: `Basic ${Buffer.from(`${user}:${secret}`).toString('base64')}`,
    ...(body === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }),
  });
  const open = (request: string, body?: string) => {
    const [method, path] = request.split(' ') as [string, string];
    return http.request({ host: gateway.host, port: gateway.port, method, path, agent, headers: headers(body) });
  };
  return {
    send(request, body) {
      return new Promise((resolve, reject) => {
        const req = open(request, body);
        req.on('response', (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode!, body: Buffer.concat(chunks).toString() }));
          res.on('error', reject);
        });
        req.on('error', reject);
        req.end(body);
      });
    },
    stream(path) {
      return new Promise((resolve) => {
        let text = '';
        const req = open(`GET ${path}`);
        req.on('response', (res) => {
          if (res.statusCode! >= 400) text += `refused: ${res.statusCode} `;
          res.on('data', (c: Buffer) => (text += c.toString()));
          res.on('end', () => resolve(text));
          res.on('error', () => resolve(text));
          res.on('close', () => resolve(text));
        });
        req.on('error', (err) => resolve(text || err.message));
        req.end();
      });
    },
    sendAndLeave(request, body) {
      return new Promise((resolve) => {
        const req = open(request, body);
        req.on('error', () => resolve());
        req.on('finish', () => {
          req.socket?.destroy();
          resolve();
        });
        req.end(body);
      });
    },
    close: () => agent.destroy(),
  };
}

/** The error message a refused response carries (JSON `error.message`), or its text. */
export function refusalText(body: string): string {
  try {
    return (JSON.parse(body) as { error: { message: string } }).error.message;
  } catch {
    return body;
  }
}
