import type { StatementClass } from '../backend.js';
import type { Facts, RelationRef } from './facts.js';
import { type AstNode, isAstNode, listField, nameList, stringField, unwrap } from './parse.js';

/**
 * Statements that define or administer objects rather than query them. They
 * are not walked expression by expression: a role that may run them is
 * trusted with what they define. What this module must get right is the
 * class (ddl vs admin), and, for roles with table patterns, which tables
 * they name, or that the tables they reach cannot be named.
 *
 * Statements that install code which later runs inside other statements —
 * functions, triggers, rules, event triggers, casts, operators, languages,
 * extensions — are admin, not ddl: with a powerful upstream credential, a
 * ddl role could otherwise plant a trigger that does what its own
 * statements may not.
 */

const DDL_STATEMENTS: ReadonlySet<string> = new Set([
  'AlterCollationStmt', 'AlterDomainStmt', 'AlterEnumStmt', 'AlterObjectSchemaStmt', 'AlterSeqStmt',
  'AlterStatsStmt', 'AlterTableStmt', 'AlterTSConfigurationStmt', 'AlterTSDictionaryStmt', 'CommentStmt',
  'CompositeTypeStmt', 'CreateDomainStmt', 'CreateEnumStmt', 'CreateRangeStmt', 'CreateSchemaStmt',
  'CreateSeqStmt', 'CreateStatsStmt', 'CreateStmt', 'IndexStmt', 'RefreshMatViewStmt', 'RenameStmt',
]);

/** DROP of these is ddl; dropping anything else (extensions, servers, languages, policies…) is admin. */
const DDL_DROP_TYPES: ReadonlySet<string> = new Set([
  'OBJECT_TABLE', 'OBJECT_VIEW', 'OBJECT_MATVIEW', 'OBJECT_SEQUENCE', 'OBJECT_INDEX', 'OBJECT_TYPE',
  'OBJECT_DOMAIN', 'OBJECT_SCHEMA', 'OBJECT_FUNCTION', 'OBJECT_PROCEDURE', 'OBJECT_ROUTINE',
  'OBJECT_TRIGGER', 'OBJECT_RULE', 'OBJECT_STATISTIC_EXT', 'OBJECT_COLLATION', 'OBJECT_CONVERSION',
  'OBJECT_AGGREGATE', 'OBJECT_OPERATOR', 'OBJECT_TSCONFIGURATION', 'OBJECT_TSDICTIONARY',
]);

/** Object kinds whose names are relations, so table patterns apply to them. */
const RELATION_OBJECTS: ReadonlySet<string> = new Set([
  'OBJECT_TABLE', 'OBJECT_VIEW', 'OBJECT_MATVIEW', 'OBJECT_SEQUENCE', 'OBJECT_INDEX', 'OBJECT_FOREIGN_TABLE',
]);

const TAGS: Readonly<Record<string, string>> = {
  CheckPointStmt: 'CHECKPOINT',
  CreatedbStmt: 'CREATE DATABASE',
  DropdbStmt: 'DROP DATABASE',
  AlterSystemStmt: 'ALTER SYSTEM',
  CreateTrigStmt: 'CREATE TRIGGER',
  CreateEventTrigStmt: 'CREATE EVENT TRIGGER',
  CreatePLangStmt: 'CREATE LANGUAGE',
  CreateFunctionStmt: 'CREATE FUNCTION',
  IndexStmt: 'CREATE INDEX',
  CreateSeqStmt: 'CREATE SEQUENCE',
  CreateStmt: 'CREATE TABLE',
  RuleStmt: 'CREATE RULE',
  CommentStmt: 'COMMENT',
  SecLabelStmt: 'SECURITY LABEL',
  CompositeTypeStmt: 'CREATE TYPE',
  CreateEnumStmt: 'CREATE TYPE',
  CreateRangeStmt: 'CREATE TYPE',
  DefineStmt: 'CREATE',
  CreateStatsStmt: 'CREATE STATISTICS',
  AlterStatsStmt: 'ALTER STATISTICS',
  RefreshMatViewStmt: 'REFRESH MATERIALIZED VIEW',
  AlterDefaultPrivilegesStmt: 'ALTER DEFAULT PRIVILEGES',
  ImportForeignSchemaStmt: 'IMPORT FOREIGN SCHEMA',
};

function objectWords(objtype: string | undefined): string {
  if (objtype === undefined) return 'OBJECT';
  if (objtype === 'OBJECT_MATVIEW') return 'MATERIALIZED VIEW';
  return objtype.replace(/^OBJECT_/, '').replace(/_/g, ' ');
}

/** `AlterTableStmt` → `ALTER TABLE`, with the kinds PostgreSQL's own command tags use. */
export function statementTag(type: string, body: AstNode): string {
  switch (type) {
    case 'DropStmt':
      return `DROP ${objectWords(stringField(body, 'removeType'))}`;
    case 'RenameStmt':
      return `ALTER ${objectWords(stringField(body, 'renameType'))} RENAME`;
    case 'AlterObjectSchemaStmt':
      return `ALTER ${objectWords(stringField(body, 'objectType'))} SET SCHEMA`;
    case 'AlterOwnerStmt':
      return `ALTER ${objectWords(stringField(body, 'objectType'))} OWNER`;
    case 'AlterTableStmt':
      return `ALTER ${objectWords(stringField(body, 'objtype'))}`;
    case 'GrantStmt':
    case 'GrantRoleStmt':
      return body['is_grant'] === true ? 'GRANT' : 'REVOKE';
    case 'VacuumStmt':
      return body['is_vacuumcmd'] === true ? 'VACUUM' : 'ANALYZE';
  }
  return TAGS[type] ?? type.replace(/Stmt$/, '').replace(/([a-z])([A-Z])/g, '$1 $2').toUpperCase();
}

export function ddlClass(type: string, body: AstNode): StatementClass {
  if (type === 'DropStmt') return DDL_DROP_TYPES.has(stringField(body, 'removeType') ?? '') ? 'ddl' : 'admin';
  return DDL_STATEMENTS.has(type) ? 'ddl' : 'admin';
}

/** Every RangeVar anywhere beneath `value`, wrapped or inline (inline ones are recognised by `relname`). */
function collectRangeVars(value: unknown, out: RelationRef[]): void {
  if (Array.isArray(value)) {
    for (const v of value) collectRangeVars(v, out);
    return;
  }
  if (!isAstNode(value)) return;
  const name = stringField(value, 'relname');
  if (name !== undefined) {
    const schema = stringField(value, 'schemaname');
    out.push(schema === undefined ? { name } : { schema, name });
    return;
  }
  for (const key in value) collectRangeVars(value[key], out);
}

function qualifiedName(node: unknown): RelationRef | undefined {
  const u = unwrap(node);
  const names = u !== undefined && u[0] === 'List' ? nameList(listField(u[1], 'items')) : undefined;
  if (names === undefined || names.length === 0 || names.length > 3) return undefined;
  const name = names[names.length - 1];
  const schema = names.length >= 2 ? names[names.length - 2] : undefined;
  if (name === undefined) return undefined;
  return schema === undefined ? { name } : { schema, name };
}

/**
 * Records the relations a definition statement names. Returns false when it
 * may reach tables it does not name (a whole database, schema or role).
 */
function namedRelations(type: string, body: AstNode, out: RelationRef[]): boolean {
  switch (type) {
    case 'DropStmt': {
      if (!RELATION_OBJECTS.has(stringField(body, 'removeType') ?? '')) return false;
      if (body['behavior'] === 'DROP_CASCADE') return false; // drops dependents it does not name
      for (const obj of listField(body, 'objects')) {
        const ref = qualifiedName(obj);
        if (ref === undefined) return false;
        out.push(ref);
      }
      return true;
    }
    case 'CommentStmt': {
      if (!RELATION_OBJECTS.has(stringField(body, 'objtype') ?? '')) return false;
      const ref = qualifiedName(body['object']);
      if (ref === undefined) return false;
      out.push(ref);
      return true;
    }
    case 'RenameStmt':
    case 'AlterObjectSchemaStmt': {
      const rel = body['relation'];
      if (!isAstNode(rel)) return false;
      collectRangeVars(rel, out);
      // The relation's new name is a table the role will be able to reach too.
      const oldName = stringField(rel, 'relname');
      const oldSchema = stringField(rel, 'schemaname');
      const newName = stringField(body, 'newname');
      const newSchema = stringField(body, 'newschema');
      if (type === 'RenameStmt' && newName !== undefined && RELATION_OBJECTS.has(stringField(body, 'renameType') ?? '')) {
        out.push(oldSchema === undefined ? { name: newName } : { schema: oldSchema, name: newName });
      }
      if (newSchema !== undefined && oldName !== undefined) out.push({ schema: newSchema, name: oldName });
      return true;
    }
    case 'CreateStmt':
    case 'AlterTableStmt':
    case 'IndexStmt':
    case 'CreateSeqStmt':
    case 'AlterSeqStmt':
    case 'RefreshMatViewStmt':
    case 'ClusterStmt':
    case 'ReindexStmt':
    case 'VacuumStmt': {
      const before = out.length;
      collectRangeVars(body, out);
      // Without a named relation these act on a whole schema or database.
      return out.length > before;
    }
    case 'GrantStmt':
      if (body['targtype'] !== 'ACL_TARGET_OBJECT' || stringField(body, 'objtype') !== 'OBJECT_TABLE') return false;
      collectRangeVars(listField(body, 'objects'), out);
      return true;
    case 'CheckPointStmt':
      return true;
    default:
      return false;
  }
}

/** Class, tag and tables of a statement that is not a query. */
export function definitionStatement(type: string, body: AstNode, facts: Facts): string {
  const tag = statementTag(type, body);
  facts.need(ddlClass(type, body), tag);
  const refs: RelationRef[] = [];
  const complete = namedRelations(type, body, refs);
  for (const ref of refs) facts.relation(ref);
  if (!complete) facts.markOpaque(tag);
  return tag;
}
