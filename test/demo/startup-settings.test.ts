import { describe, expect, it } from 'vitest';
import { sessionSettings, settingSql } from '../../src/demo/startup-settings.js';

describe('the demo database: startup settings per session', () => {
  it('reads -c and --name=value from options (backslash keeps a space) and plain parameters, skipping user/database', () => {
    const params = new Map([
      ['user', 'postgres'],
      ['database', 'postgres'],
      ['application_name', 'airlock:alice'],
      ['options', '-c default_transaction_read_only=on  -cstatement_timeout=30000 --search-path=a\\ b -c bad;name=1'],
    ]);
    expect([...sessionSettings(params)]).toEqual([
      ['application_name', 'airlock:alice'],
      ['default_transaction_read_only', 'on'],
      ['statement_timeout', '30000'],
      ['search_path', 'a b'],
    ]);
  });

  it('resets what only the last session had and sets all of the next one, quoting values', () => {
    const read = new Map([['default_transaction_read_only', 'on'], ['application_name', "it's"]]);
    expect(settingSql(read, new Map([['application_name', 'w']]))).toEqual([
      'reset "default_transaction_read_only"',
      "select set_config('application_name', 'w', false)",
    ]);
    expect(settingSql(new Map(), read)).toContain("select set_config('application_name', 'it''s', false)");
  });
});
