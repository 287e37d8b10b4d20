import { Needs } from './needs.js';
import { judgeSet } from './set-statement.js';
import { identValue, objectNameParts } from './walk.js';

/**
 * Top-level dispatch: one parsed statement in, its needs out (classes,
 * refusals, relations and functions via the walker). A statement kind not
 * named here is opaque: admin only, and never with table restrictions.
 */

type AstObject = Record<string, unknown>;
const isObject = (v: unknown): v is AstObject => typeof v === 'object' && v !== null && !Array.isArray(v);

const DDL: Readonly<Record<string, string>> = {
  CreateTable: 'CREATE TABLE',
  AlterTable: 'ALTER TABLE',
  Drop: 'DROP',
  CreateIndex: 'CREATE INDEX',
  DropIndex: 'DROP INDEX',
  CreateView: 'CREATE VIEW',
  AlterView: 'ALTER VIEW',
  RenameTable: 'RENAME TABLE',
  CreateSequence: 'CREATE SEQUENCE',
  CreateSchema: 'CREATE SCHEMA',
  CreateDatabase: 'CREATE DATABASE',
  Comment: 'COMMENT',
};

const READ_SHOW: ReadonlySet<string> = new Set([
  'ShowTables',
  'ShowDatabases',
  'ShowSchemas',
  'ShowColumns',
  'ShowCreate',
  'ShowVariables',
  'ShowStatus',
  'ShowCollation',
  'ShowCharset',
  'ShowViews',
]);

/** `SHOW …` forms that only read this session's own state. */
const SESSION_DIAGNOSTICS: ReadonlySet<string> = new Set(['WARNINGS', 'ERRORS', 'COUNT WARNINGS', 'COUNT ERRORS']);

const NO_NEEDS: Readonly<Record<string, string>> = {
  Commit: 'COMMIT',
  Rollback: 'ROLLBACK',
  Savepoint: 'SAVEPOINT',
  ReleaseSavepoint: 'RELEASE SAVEPOINT',
  UnlockTables: 'UNLOCK TABLES',
};

export function judgeStatement(statement: unknown): Needs {
  const [variant, body] = typeof statement === 'string' ? [statement, undefined] : isObject(statement) ? (Object.entries(statement)[0] ?? ['?', undefined]) : ['?', undefined];
  const needs = new Needs(variant.toUpperCase());
  judgeInto(needs, variant, body);
  return needs;
}

function judgeInto(needs: Needs, variant: string, body: unknown): void {
  if (variant in NO_NEEDS) {
    needs.tag = NO_NEEDS[variant]!;
    return;
  }
  if (variant in DDL) {
    needs.tag = DDL[variant]!;
    needs.need('ddl', needs.tag);
    needs.walker.walk(body);
    return;
  }
  if (READ_SHOW.has(variant)) {
    needs.tag = 'SHOW';
    needs.need('read', 'SHOW');
    needs.walker.walk(body);
    return;
  }
  switch (variant) {
    case 'Query':
      needs.tag = 'SELECT';
      needs.need('read', 'SELECT');
      needs.walker.walk(body);
      if (needs.walker.facts.locksRows) needs.need('write', 'SELECT … FOR UPDATE / FOR SHARE (row locks)');
      if (needs.walker.facts.intoOther) needs.refuse('SELECT … INTO a table or file');
      return;
    case 'Insert': {
      const replace = isObject(body) && body['replace_into'] === true;
      needs.tag = replace ? 'REPLACE' : 'INSERT';
      needs.need('write', needs.tag);
      needs.walker.walk({ Insert: body });
      if (needs.walker.facts.relations.length > 1) needs.need('read', `${needs.tag} … SELECT`);
      return;
    }
    case 'Update':
    case 'Delete':
      needs.tag = variant.toUpperCase();
      needs.need('write', needs.tag);
      needs.walker.walk(body);
      if (needs.walker.facts.relations.length > 1) needs.need('read', `${needs.tag} reading other tables`);
      return;
    case 'Truncate':
      needs.tag = 'TRUNCATE';
      needs.need('write', 'TRUNCATE');
      needs.walker.walk(body);
      return;
    case 'LockTables': {
      needs.tag = 'LOCK TABLES';
      // Any explicit lock can stall production writers.
      needs.need('write', 'LOCK TABLES');
      const tables = isObject(body) && Array.isArray(body['tables']) ? body['tables'] : [];
      for (const t of tables) {
        const name = isObject(t) ? identValue(t['table']) : undefined;
        if (name === undefined) return needs.needOpaque('LOCK TABLES');
        needs.walker.facts.relations.push({ name });
      }
      return;
    }
    case 'Explain': {
      // Judged as if the explained statement ran: EXPLAIN ANALYZE (and MariaDB's ANALYZE) does run it.
      const inner = judgeStatement(isObject(body) ? body['statement'] : undefined);
      inner.tag = 'EXPLAIN';
      Object.assign(needs, { tag: 'EXPLAIN', refused: inner.refused, opaque: inner.opaque, usesDatabase: inner.usesDatabase });
      for (const [cls, what] of inner.classes) needs.need(cls, what);
      needs.walker.facts.relations.push(...inner.walker.facts.relations);
      needs.walker.facts.functions.push(...inner.walker.facts.functions);
      return;
    }
    case 'ShowVariable': {
      // sqlparser-rs's catch-all for SHOW forms it does not model (SHOW BINLOG EVENTS, SHOW ENGINE … STATUS,
      // SHOW INDEX FROM t …): only the session's own diagnostics are read; the rest is admin.
      needs.tag = 'SHOW';
      const words = (isObject(body) && Array.isArray(body['variable']) ? body['variable'] : []).map((w) => identValue(w)?.toUpperCase() ?? '?').join(' ');
      if (SESSION_DIAGNOSTICS.has(words)) return needs.need('read', 'SHOW');
      return needs.needOpaque(`SHOW ${words}`);
    }
    case 'ExplainTable':
      needs.tag = 'DESCRIBE';
      needs.need('read', 'DESCRIBE');
      needs.walker.walk(body);
      return;
    case 'StartTransaction': {
      needs.tag = 'START TRANSACTION';
      if (JSON.stringify(isObject(body) ? body['modes'] : []).includes('ReadWrite')) needs.need('write', 'START TRANSACTION READ WRITE');
      return;
    }
    case 'Set':
      needs.tag = 'SET';
      judgeSet(body, needs);
      return;
    case 'Use': {
      needs.tag = 'USE';
      const target = isObject(body) ? Object.values(body)[0] : undefined;
      const parts = objectNameParts(target);
      if (!parts || parts.length !== 1) return needs.refuse('this form of USE');
      needs.usesDatabase = parts[0];
      return;
    }
    case 'Execute':
    case 'Prepare':
    case 'Deallocate':
      needs.tag = variant.toUpperCase();
      return needs.needOpaque(`${needs.tag} (SQL-level prepared statements run text airlock cannot see)`);
    case 'Call':
      needs.tag = 'CALL';
      needs.walker.walk(body);
      return needs.needOpaque('CALL (stored procedures)');
    default:
      needs.tag = variant.replace(/([a-z])([A-Z])/g, '$1 $2').toUpperCase();
      needs.walker.walk(body);
      return needs.needOpaque(needs.tag);
  }
}
