import { describe, expect, it } from 'vitest';
import { literalShape } from '../../../../src/gateway/postgres/sql/literal-shape.js';
import { expectAllowed, expectRefused } from './helpers.js';

const SECRET: import('../../../../src/gateway/postgres/backend.js').SqlScope = {
  resource: 'orders-db',
  role: 'read',
  allow: ['read'],
  tables: ['public.*'],
  denyTables: ['public.t2'],
};

describe('literal shapes for the decision cache', () => {
  it('masks numeric literals only', () => {
    expect(literalShape('SELECT abalance FROM pgbench_accounts WHERE aid = 42;')).toBe('SELECT abalance FROM pgbench_accounts WHERE aid = \u0002;');
    expect(literalShape('select 1.5e-3, .5 + 7')).toBe('select \u0002, .\u0002 + \u0002');
  });

  it('leaves digits inside identifiers, quoted names, strings and comments alone', () => {
    expect(literalShape('select c1 from t2 where "col 3" = \'4\' -- 5\n and x = 6 /* 7 /* 8 */ 9 */')).toBe(
      'select c1 from t2 where "col 3" = \'4\' -- 5\n and x = \u0002 /* 7 /* 8 */ 9 */',
    );
  });

  it('gives up on anything it is not sure of', () => {
    for (const sql of [
      "set extra_float_digits = 3",
      "select E'\\x1' , 2",
      'select $1, 2',
      "select $$ 1 $$",
      "select U&'d\\0061t' , 1",
      "select 'unterminated, 1",
      'select 1 /* unterminated',
      "begin; select 1",
    ]) {
      expect(literalShape(sql), sql).toBeNull();
    }
  });

  it('never lets a cached allowed shape answer for a denied table named with other digits', async () => {
    await expectAllowed('select * from t1 where id = 1', SECRET);
    await expectRefused('select * from t2 where id = 1', SECRET);
    await expectAllowed('select * from t1 where id = 2', SECRET);
    await expectRefused('select * from t2 where id = 2', SECRET);
  });

  it('answers a new literal with the same decision as the parser would', async () => {
    await expectAllowed('select count(*) from orders where id = 100');
    await expectAllowed('select count(*) from orders where id = 101');
    await expectRefused('select count(*) from orders where id = 101; delete from orders where id = 101');
    await expectRefused('delete from orders where id = 102');
  });
});
