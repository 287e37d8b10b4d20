import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { configSchema } from '../../src/config/schema.js';
import { ROOT } from '../support/cli.js';

describe('the published JSON Schema', () => {
  it('matches the schema the server validates with (regenerate: airlock config schema --out airlock.schema.json)', () => {
    const published = JSON.parse(readFileSync(join(ROOT, 'airlock.schema.json'), 'utf8')) as unknown;
    expect(published).toEqual(z.toJSONSchema(configSchema, { io: 'input' }));
  });
});
