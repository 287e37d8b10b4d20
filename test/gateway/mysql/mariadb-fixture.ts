import { randomBytes } from 'node:crypto';
import mysql from 'mysql2/promise';

/** The local MariaDB (127.0.0.1:3306, root without password): each test gets its own database and users. */
export const MARIADB = { host: '127.0.0.1', port: 3306 } as const;

export async function rootConnection(): Promise<mysql.Connection> {
  return mysql.createConnection({ ...MARIADB, user: 'root', password: '' });
}

export interface Scratch {
  readonly database: string;
  readonly user: string;
  readonly password: string;
  readonly root: mysql.Connection;
  drop(): Promise<void>;
}

/** A database with tables `orders` and `secrets`, and a login with every privilege on it. */
export async function scratchDatabase(prefix = 'airlock_my'): Promise<Scratch> {
  const tag = randomBytes(4).toString('hex');
  const database = `${prefix}_${tag}`;
  const user = `al_${tag}`;
  const password = `pw_${randomBytes(9).toString('base64url')}`;
  const root = await rootConnection();
  await root.query(`CREATE DATABASE \`${database}\``);
  await root.query(`CREATE USER '${user}'@'%' IDENTIFIED BY '${password}'`);
  await root.query(`GRANT ALL ON \`${database}\`.* TO '${user}'@'%'`);
  await root.query(`CREATE TABLE \`${database}\`.orders (id INT PRIMARY KEY, item VARCHAR(100), amount INT)`);
  await root.query(`INSERT INTO \`${database}\`.orders VALUES (1, 'apple', 3), (2, 'pear', 5)`);
  await root.query(`CREATE TABLE \`${database}\`.secrets (id INT PRIMARY KEY, value VARCHAR(100))`);
  await root.query(`INSERT INTO \`${database}\`.secrets VALUES (1, 'the-secret')`);
  return {
    database,
    user,
    password,
    root,
    async drop() {
      await root.query(`DROP DATABASE IF EXISTS \`${database}\``);
      await root.query(`DROP USER IF EXISTS '${user}'@'%'`);
      await root.end();
    },
  };
}
