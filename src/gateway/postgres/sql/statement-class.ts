import type { Facts } from './facts.js';
import { definitionStatement } from './ddl.js';
import { type AstNode, isAstNode, listField, stringField, unwrap } from './parse.js';
import { discardStatement, setStatement, transactionStatement } from './session.js';
import { QueryWalker } from './walk.js';

/**
 * Top-level dispatch: one parse-tree statement in, its command tag out, with
 * what it needs recorded in `facts`. Queries and DML are walked in full;
 * session statements, COPY, LOCK and TRUNCATE are judged here; everything
 * else is a definition statement (ddl or admin, see ddl.ts).
 */

const DML_TAGS: Readonly<Record<string, string>> = {
  InsertStmt: 'INSERT',
  UpdateStmt: 'UPDATE',
  DeleteStmt: 'DELETE',
  MergeStmt: 'MERGE',
};

/** PostgreSQL's lock mode numbers (lockdefs.h): AccessShareLock is 1. */
const ACCESS_SHARE_LOCK = 1;

export function classifyStatement(node: unknown, facts: Facts, walker: QueryWalker = new QueryWalker(facts)): string {
  const u = unwrap(node);
  if (u === undefined) {
    facts.opaqueNeed('admin', 'a statement airlock could not read');
    return 'UNKNOWN';
  }
  const [type, body] = u;
  switch (type) {
    case 'SelectStmt':
      facts.need('read', 'SELECT');
      walker.statement(node);
      return 'SELECT';
    case 'InsertStmt':
    case 'UpdateStmt':
    case 'DeleteStmt':
    case 'MergeStmt':
      walker.statement(node);
      return DML_TAGS[type] ?? type;
    case 'ExplainStmt':
      // Planning alone can run functions (constant folding), so the explained statement is judged as if run.
      classifyStatement(body['query'], facts, walker);
      return 'EXPLAIN';
    case 'DeclareCursorStmt':
      facts.need('read', 'DECLARE CURSOR');
      classifyStatement(body['query'], facts, walker);
      return 'DECLARE CURSOR';
    case 'FetchStmt':
      return body['ismove'] === true ? 'MOVE' : 'FETCH';
    case 'ClosePortalStmt':
      return 'CLOSE CURSOR';
    case 'VariableShowStmt':
      return 'SHOW';
    case 'VariableSetStmt':
      return setStatement(body, facts);
    case 'TransactionStmt':
      return transactionStatement(body, facts);
    case 'DiscardStmt':
      return discardStatement(body, facts);
    case 'DeallocateStmt':
      // Only forgets this session's own prepared statements.
      return 'DEALLOCATE';
    case 'UnlistenStmt':
      return 'UNLISTEN';
    case 'ListenStmt':
      // A notification payload can carry data from any table; no scope names channels.
      facts.opaqueNeed('admin', 'LISTEN');
      return 'LISTEN';
    case 'NotifyStmt':
      facts.need('write', 'NOTIFY');
      return 'NOTIFY';
    case 'PrepareStmt':
      // Checked as if it ran now. EXECUTE later runs it without its text passing the gateway again, so the
      // relay lets EXECUTE run only names it saw prepared, by a statement this check allowed, in this session.
      classifyStatement(body['query'], facts, walker);
      // EXECUTE converts its arguments to the declared types, as a cast would: a type whose input runs code counts here.
      for (const type of listField(body, 'argtypes')) walker.expression(type);
      return 'PREPARE';
    case 'ExecuteStmt':
      // What it runs was checked at PREPARE (query-relay.ts holds it to that); its arguments are evaluated now.
      for (const param of listField(body, 'params')) walker.expression(param);
      return 'EXECUTE';
    case 'DoStmt':
      facts.opaqueNeed('admin', 'DO');
      return 'DO';
    case 'CallStmt':
      facts.opaqueNeed('admin', 'CALL');
      return 'CALL';
    case 'CopyStmt':
      return copyStatement(body, facts, walker);
    case 'LockStmt':
      // ACCESS SHARE is the lock every SELECT takes and holds to the end of its transaction: it blocks only
      // ACCESS EXCLUSIVE (DDL, VACUUM FULL), as a read would. pg_dump takes it on each table it dumps.
      // Any stronger lock can stall production writers.
      if (body['mode'] === ACCESS_SHARE_LOCK) facts.need('read', 'LOCK … IN ACCESS SHARE MODE');
      else facts.need('write', 'LOCK');
      for (const rel of listField(body, 'relations')) walker.table(rel);
      return 'LOCK TABLE';
    case 'TruncateStmt':
      facts.need('write', 'TRUNCATE');
      for (const rel of listField(body, 'relations')) walker.table(rel);
      // CASCADE empties tables that reference these, which the statement does not name.
      if (body['behavior'] === 'DROP_CASCADE') facts.markOpaque('TRUNCATE … CASCADE');
      return 'TRUNCATE TABLE';
    case 'CreateTableAsStmt': {
      const tag = stringField(body, 'objtype') === 'OBJECT_MATVIEW' ? 'CREATE MATERIALIZED VIEW' : 'CREATE TABLE AS';
      facts.need('ddl', tag);
      const into = body['into'];
      walker.table(isAstNode(into) ? into['rel'] : undefined);
      classifyStatement(body['query'], facts, walker);
      return tag;
    }
    case 'ViewStmt':
      facts.need('ddl', 'CREATE VIEW');
      walker.table(body['view']);
      classifyStatement(body['query'], facts, walker);
      return 'CREATE VIEW';
    default:
      return definitionStatement(type, body, facts);
  }
}

function copyStatement(body: AstNode, facts: Facts, walker: QueryWalker): string {
  const isFrom = body['is_from'] === true;
  const direction = isFrom ? 'COPY FROM' : 'COPY TO';
  if (body['is_program'] === true) {
    // Runs a shell command as the database server's OS user.
    facts.opaqueNeed('admin', `${direction} PROGRAM`);
  } else if (typeof body['filename'] === 'string') {
    // Reads or writes files on the database server itself.
    facts.opaqueNeed('admin', `${direction} a server file`);
  }
  const query = body['query'];
  if (query !== undefined) {
    classifyStatement(query, facts, walker);
  } else {
    facts.need(isFrom ? 'write' : 'read', direction);
    walker.table(body['relation']);
  }
  const where = body['whereClause'];
  if (where !== undefined) walker.expression(where);
  return 'COPY';
}
