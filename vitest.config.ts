import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';
import { SlowestFirst } from './test/support/run-order.js';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    // Test files mostly wait on processes, sockets and the databases: vitest's default (one worker per core but one)
    // ran the files one at a time on the 2-core VM with a core idle. Twice the cores keeps both busy. At most 4:
    // every file holds PostgreSQL (max_connections 100) and MariaDB connections, servers and browsers of its own.
    maxWorkers: Math.min(4, availableParallelism() * 2),
    // Each file keeps its own process (isolate, the default): in-process gateways and writers a file leaves behind
    // would otherwise run on into the next file of the same worker, and module state (SQL decision caches, the
    // classifier thread switch) would carry over.
    sequence: { sequencer: SlowestFirst },
  },
});
