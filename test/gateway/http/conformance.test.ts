import { describeConformance, type ConformanceClient } from '../conformance.js';
import { startEdgeUpstream } from './edge-upstream.js';
import { gatewayClient, refusalText } from './http-client.js';

/**
 * The HTTP adapter against the kernel's conformance suite: a Node HTTP client
 * with Basic auth (Airlock user + grant secret) through the gateway to the
 * tests' own upstream, whose PUT /items/<marker> is the write and whose
 * server-sent event stream is the long-running request a cut interrupts.
 */
describeConformance({
  kind: 'http',
  async setup(name) {
    const upstream = await startEdgeUpstream();
    return {
      resourceYaml: `
  - name: ${name}
    kind: http
    upstream: { url: "${upstream.url}" }
    roles:
      read: { credential: { bearer_env: CONF_HTTP_TOKEN }, http: { allow: ["GET /**"] } }
      write: { credential: { bearer_env: CONF_HTTP_TOKEN }, http: { allow: ["GET /**", "PUT /items/*"] } }`,
      gatewayYaml: 'http: { listen: 127.0.0.1:0 }',
      env: { CONF_HTTP_TOKEN: 'conformance-token' },
      written: async (marker) => upstream.seen.some((s) => s.method === 'PUT' && s.url === `/items/${marker}`),
      teardown: () => upstream.close(),
    };
  },
  async connect(gateway, user, secret, resource): Promise<ConformanceClient> {
    const c = gatewayClient(gateway, user, secret, resource);
    const message = (err: unknown) => (err instanceof Error ? err.message : String(err));
    return {
      run: (request) => c.send(request, request.startsWith('PUT') ? '{}' : undefined).then((r) => (r.status < 400 ? null : refusalText(r.body)), message),
      // The stream's last event is the gateway's reason for the cut (or the refusal, when the cut came first).
      runUntilCut: () =>
        c.stream('/sse').then((text) => /event: airlock\ndata: (.*)/.exec(text)?.[1] ?? (text.startsWith('refused:') ? refusalText(text.replace(/^refused: \d+ /, '')) : `not cut: ${text.slice(-200)}`)),
      sendAndLeave: (request) => c.sendAndLeave(request, '{}'),
      close: async () => c.close(),
    };
  },
  statements: {
    read: 'GET /api/overview',
    write: (marker) => `PUT /items/${marker}`,
  },
});
