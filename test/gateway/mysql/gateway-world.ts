import { afterAll, beforeAll } from 'vitest';
import { createMysqlGateway, type MysqlGateway, type MysqlGatewayOptions } from '../../../src/gateway/mysql/listener.js';
import { FakePort } from './fake-port.js';
import { scratchDatabase, type Scratch } from './mariadb-fixture.js';

/** What most MySQL gateway test files share: a scratch MariaDB database, a FakePort and a gateway on port 0, for the whole file. */
export interface GatewayWorld {
  readonly db: Scratch;
  readonly port: FakePort;
  readonly gw: MysqlGateway;
}

/** Registers the file's beforeAll/afterAll; the world's fields are there from the first test on. */
export function mysqlGatewayWorld(options: Partial<Omit<MysqlGatewayOptions, 'port' | 'listen'>> = {}): GatewayWorld {
  const world = {} as { db: Scratch; port: FakePort; gw: MysqlGateway };
  beforeAll(async () => {
    world.db = await scratchDatabase();
    world.port = new FakePort();
    world.gw = await createMysqlGateway({ ...options, port: world.port, listen: { host: '127.0.0.1', port: 0 } });
  });
  afterAll(async () => {
    await world.gw?.close();
    await world.db?.drop();
  });
  return world;
}
