import { parentPort } from 'node:worker_threads';
import { CatalogFacts, type RawCatalog } from './catalog-facts.js';
import { checkSql, loadSqlParser } from './check.js';
import type { CheckReply, CheckRequest } from './check-thread.js';
import { Lru } from './lru.js';

/** The classifier thread (check-thread.ts): decides the statements too large to parse on the event loop. */

const port = parentPort;
if (port === null) throw new Error('check-worker.ts runs only as a worker thread');

const catalogs = new Lru<string, CatalogFacts>(16);
catalogs.set(CatalogFacts.NONE.fingerprint, CatalogFacts.NONE);
const ready = loadSqlParser();

port.on('message', (request: CheckRequest) => {
  if (request.type === 'close') {
    port.close();
    return;
  }
  void answer(request).then((reply) => port.postMessage(reply));
});

async function answer(request: CheckRequest & { type: 'check' }): Promise<CheckReply> {
  let catalog = catalogs.get(request.fingerprint);
  if (catalog === undefined) {
    if (request.catalog === undefined) return { id: request.id, needCatalog: true };
    catalog = new CatalogFacts(request.fingerprint, request.catalog as RawCatalog);
    catalogs.set(request.fingerprint, catalog);
  }
  await ready;
  const decision = await checkSql(request.sql, request.scope, { searchPath: request.searchPath, user: request.user, catalog });
  return { id: request.id, decision };
}
