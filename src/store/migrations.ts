import { PostgresAdapter, sql, type Kysely, type Migration } from 'kysely';

/** True when migrating a PostgreSQL store (see `counter`). */
function onPostgres(db: Kysely<unknown>): boolean {
  return db.getExecutor().adapter instanceof PostgresAdapter;
}

/**
 * The column type of a count or sequence number: `integer` in SQLite (64-bit
 * there, and what shipped), `bigint` in PostgreSQL (whose integer is 32-bit;
 * connection.ts reads bigints back as numbers).
 */
function counter(db: Kysely<unknown>): 'integer' | 'bigint' {
  return onPostgres(db) ? 'bigint' : 'integer';
}

/**
 * Schema history. Append new migrations; never edit one that has shipped in a
 * way that changes what it does to a SQLite file (PostgreSQL stores came later:
 * a migration may choose its PostgreSQL types, as 0001 does).
 */
export const migrations: Record<string, Migration> = {
  '0001_lifecycle': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('meta')
        .addColumn('key', 'text', (c) => c.primaryKey())
        .addColumn('value', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('requests')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('user', 'text', (c) => c.notNull())
        .addColumn('resource', 'text', (c) => c.notNull())
        .addColumn('role', 'text', (c) => c.notNull())
        .addColumn('duration_seconds', 'integer', (c) => c.notNull())
        .addColumn('reason', 'text')
        .addColumn('ticket', 'text')
        .addColumn('policy', 'text', (c) => c.notNull())
        .addColumn('approvals_needed', 'integer', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('review_deadline', 'text', (c) => c.notNull())
        .addColumn('decided_at', 'text')
        .addColumn('extends_grant_id', 'text')
        .addColumn('grant_id', 'text')
        .execute();
      await db.schema.createIndex('requests_state').on('requests').columns(['state', 'review_deadline']).execute();
      await db.schema
        .createTable('reviews')
        .addColumn('request_id', 'text', (c) => c.notNull())
        .addColumn('reviewer', 'text', (c) => c.notNull())
        .addColumn('decision', 'text', (c) => c.notNull())
        .addColumn('comment', 'text')
        .addColumn('at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('reviews_pk', ['request_id', 'reviewer'])
        .execute();
      await db.schema
        .createTable('grants')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('request_id', 'text', (c) => c.notNull())
        .addColumn('user', 'text', (c) => c.notNull())
        .addColumn('resource', 'text', (c) => c.notNull())
        .addColumn('role', 'text', (c) => c.notNull())
        .addColumn('policy', 'text', (c) => c.notNull())
        .addColumn('reason', 'text')
        .addColumn('ticket', 'text')
        .addColumn('approved_by', 'text', (c) => c.notNull())
        .addColumn('starts_at', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'text', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('ended_at', 'text')
        .addColumn('ended_by', 'text')
        .addColumn('end_reason', 'text')
        .addColumn('secret_verifier', 'text')
        .execute();
      await db.schema.createIndex('grants_state').on('grants').columns(['state', 'expires_at']).execute();
      await db.schema.createIndex('grants_user_resource').on('grants').columns(['user', 'resource', 'state']).execute();
      await db.schema
        .createTable('sessions')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('grant_id', 'text', (c) => c.notNull())
        .addColumn('user', 'text', (c) => c.notNull())
        .addColumn('resource', 'text', (c) => c.notNull())
        .addColumn('role', 'text', (c) => c.notNull())
        .addColumn('client_address', 'text', (c) => c.notNull())
        .addColumn('application_name', 'text')
        .addColumn('started_at', 'text', (c) => c.notNull())
        .addColumn('ended_at', 'text')
        .addColumn('end_reason', 'text')
        .addColumn('statements', counter(db), (c) => c.notNull().defaultTo(0))
        .addColumn('refused', counter(db), (c) => c.notNull().defaultTo(0))
        .addColumn('bytes_in', counter(db), (c) => c.notNull().defaultTo(0))
        .addColumn('bytes_out', counter(db), (c) => c.notNull().defaultTo(0))
        .execute();
      await db.schema.createIndex('sessions_grant').on('sessions').column('grant_id').execute();
      await db.schema
        .createTable('api_tokens')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('user', 'text', (c) => c.notNull())
        .addColumn('hash', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('revoked_at', 'text')
        .execute();
      await db.schema
        .createTable('audit_events')
        .addColumn('seq', counter(db), (c) => c.primaryKey())
        .addColumn('at', 'text', (c) => c.notNull())
        .addColumn('actor', 'text', (c) => c.notNull())
        .addColumn('action', 'text', (c) => c.notNull())
        .addColumn('target', 'text', (c) => c.notNull())
        .addColumn('subject_user', 'text')
        .addColumn('resource', 'text')
        .addColumn('details', 'text', (c) => c.notNull())
        .addColumn('prev_hash', 'text', (c) => c.notNull())
        .addColumn('hash', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('audit_target').on('audit_events').column('target').execute();
      await db.schema.createIndex('audit_at').on('audit_events').column('at').execute();
      await db.schema
        .createTable('outbox')
        .addColumn('id', counter(db), (c) => (onPostgres(db) ? c.primaryKey().generatedByDefaultAsIdentity() : c.primaryKey().autoIncrement()))
        .addColumn('audit_seq', counter(db), (c) => c.notNull())
        .addColumn('sink', 'text', (c) => c.notNull())
        .addColumn('event_type', 'text', (c) => c.notNull())
        .addColumn('payload', 'text', (c) => c.notNull())
        .addColumn('attempts', counter(db), (c) => c.notNull().defaultTo(0))
        .addColumn('next_attempt_at', 'text', (c) => c.notNull())
        .addColumn('delivered_at', 'text')
        .addColumn('last_error', 'text')
        .execute();
      await db.schema.createIndex('outbox_due').on('outbox').columns(['delivered_at', 'next_attempt_at']).execute();
      await sql`select 1`.execute(db);
    },
  },
  '0013_identity': {
    // Tokens become manageable (name, scope, expiry, last use); identity-provider users and sign-in sessions get tables.
    // Tokens issued before this migration keep working as scope `admin` (all their user may do), named `personal`,
    // and expire 90 days after the migration ran.
    async up(db: Kysely<unknown>) {
      const expires = new Date(Date.now() + 90 * 86_400_000).toISOString();
      await db.schema.alterTable('api_tokens').addColumn('name', 'text', (c) => c.notNull().defaultTo('personal')).execute();
      await db.schema.alterTable('api_tokens').addColumn('scope', 'text', (c) => c.notNull().defaultTo('admin')).execute();
      await db.schema.alterTable('api_tokens').addColumn('expires_at', 'text', (c) => c.notNull().defaultTo(expires)).execute();
      await db.schema.alterTable('api_tokens').addColumn('last_used_at', 'text').execute();
      await db.schema.alterTable('api_tokens').addColumn('revoked_by', 'text').execute();
      await db.schema.alterTable('api_tokens').addColumn('created_by', 'text').execute();
      await db.schema.createIndex('api_tokens_user').on('api_tokens').column('user').execute();
      await db.schema
        .createTable('identity_users')
        .addColumn('name', 'text', (c) => c.primaryKey())
        .addColumn('groups', 'text', (c) => c.notNull())
        .addColumn('subject', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('sign_in_sessions')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('hash', 'text', (c) => c.notNull())
        .addColumn('user', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'text', (c) => c.notNull())
        .addColumn('refresh_token', 'text')
        .addColumn('refreshed_at', 'text', (c) => c.notNull())
        .addColumn('ended_at', 'text')
        .execute();
      await db.schema.createIndex('sign_in_sessions_user').on('sign_in_sessions').column('user').execute();
    },
  },
  '0014_mysql_verifiers': {
    // The MySQL gateway's password plugins check a grant secret against SHA1(SHA1()) and SHA256(SHA256()) of it
    // (src/core/mysql-verifiers.ts); stored beside the SCRAM verifier, cleared with it when the grant ends.
    // Secrets issued before this migration have none: their holders use caching_sha2_password's full
    // authentication (checked against the SCRAM verifier) or issue a new secret.
    async up(db: Kysely<unknown>) {
      await db.schema.alterTable('grants').addColumn('mysql_verifiers', 'text').execute();
    },
  },
  '0015_nodes': {
    // Several nodes may share a PostgreSQL store: each session records the node that carries it, so a node that
    // starts again closes only the sessions it left open, not those another live node holds. Sessions from before
    // have none (start-up closes those too: no node that could carry them is running code older than this).
    async up(db: Kysely<unknown>) {
      await db.schema.alterTable('sessions').addColumn('node', 'text').execute();
      await db.schema.createIndex('sessions_node_live').on('sessions').columns(['node', 'ended_at']).execute();
    },
  },
  '0016_fleet_nodes': {
    // Each node of a fleet says it is alive every few seconds (src/fleet/node-heartbeat.ts), so `airlock nodes`
    // can list the fleet and tell a node that stopped answering from one that is up.
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('nodes')
        .addColumn('name', 'text', (c) => c.primaryKey())
        .addColumn('started_at', 'text', (c) => c.notNull())
        .addColumn('last_seen', 'text', (c) => c.notNull())
        .execute();
    },
  },
};
