import type pg from 'pg';
import { engineerRoles, type EngineerRole } from '../../protocol/daemonApi';
import { AppError } from '../errors/AppError';
import { isUniqueViolation } from '../store/postgres/postgresTransaction';
import { engineerToken } from './engineerToken';

/** An engineer of a shared deployment, as the directory keeps them (never with a token). */
export interface Engineer {
  name: string;
  role: EngineerRole;
  /** Tenants the engineer is restricted to, as registered or by the daemon's ids; null for every tenant. */
  tenants: readonly string[] | null;
  createdAt: number;
  revokedAt: number | null;
}

export interface NewEngineer {
  name: string;
  role: EngineerRole;
  tenants?: readonly string[] | null;
}

interface EngineerRow {
  name: string;
  role: EngineerRole;
  tenants: string[] | null;
  created_at: Date;
  revoked_at: Date | null;
}

const namePattern = /^[\p{L}\p{N}][\p{L}\p{N}._@-]{0,63}$/u;
const tenantPattern = /^[A-Za-z0-9][A-Za-z0-9.-]{0,252}$/;
const maxTenants = 1000;

/**
 * The engineers of a shared deployment and their tokens, in the shared database. Every check asks the
 * database (one indexed read), so a revocation or a role change made by any daemon or by the `users`
 * command holds for the very next request on every daemon: there is no cache to outlive it.
 */
export class EngineerDirectory {
  constructor(private readonly pool: pg.Pool) {}

  /** Adds an engineer and answers the token, which exists nowhere else afterwards: show it once. */
  async add(input: NewEngineer): Promise<{ engineer: Engineer; token: string }> {
    const name = checkName(input.name);
    const role = checkRole(input.role);
    const tenants = input.tenants === undefined || input.tenants === null ? null : checkTenants(input.tenants);
    const token = engineerToken.issue();
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const inserted = await client
        .query<EngineerRow & { id: string }>(
          `INSERT INTO engineers (name, role, tenants) VALUES ($1, $2, $3)
           RETURNING id, name, role, tenants, created_at, revoked_at`,
          [name, role, tenants],
        )
        .catch((error: unknown) => {
          if (isUniqueViolation(error)) {
            throw AppError.conflict('ENGINEER_EXISTS', `An engineer named ${name} already exists: revoke them first, or choose another name.`, { field: 'name' });
          }
          throw error;
        });
      const row = inserted.rows[0];
      if (!row) throw new Error('INSERT … RETURNING answered no row');
      await client.query('INSERT INTO engineer_tokens (token_hash, engineer_id) VALUES ($1, $2)', [engineerToken.hash(token), row.id]);
      await client.query('COMMIT');
      return { engineer: toEngineer(row), token };
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  /** Every engineer, revoked ones included, by name. */
  async list(): Promise<Engineer[]> {
    const { rows } = await this.pool.query<EngineerRow>(
      'SELECT name, role, tenants, created_at, revoked_at FROM engineers ORDER BY lower(name), created_at',
    );
    return rows.map(toEngineer);
  }

  /** Revokes the engineer and every token of theirs, at once. */
  async revoke(name: string): Promise<Engineer> {
    const { rows } = await this.pool.query<EngineerRow>(
      `WITH revoked AS (
         UPDATE engineers SET revoked_at = now() WHERE lower(name) = lower($1) AND revoked_at IS NULL
         RETURNING id, name, role, tenants, created_at, revoked_at
       ), tokens AS (
         UPDATE engineer_tokens SET revoked_at = now()
         WHERE engineer_id IN (SELECT id FROM revoked) AND revoked_at IS NULL
       )
       SELECT name, role, tenants, created_at, revoked_at FROM revoked`,
      [checkName(name)],
    );
    return toEngineer(this.found(rows, name));
  }

  async setRole(name: string, role: EngineerRole): Promise<Engineer> {
    const { rows } = await this.pool.query<EngineerRow>(
      `UPDATE engineers SET role = $2 WHERE lower(name) = lower($1) AND revoked_at IS NULL
       RETURNING name, role, tenants, created_at, revoked_at`,
      [checkName(name), checkRole(role)],
    );
    return toEngineer(this.found(rows, name));
  }

  /** A new token for the engineer; every earlier one stops working at once. */
  async issueToken(name: string): Promise<{ engineer: Engineer; token: string }> {
    const token = engineerToken.issue();
    const { rows } = await this.pool.query<EngineerRow>(
      `WITH engineer AS (
         SELECT id, name, role, tenants, created_at, revoked_at FROM engineers
         WHERE lower(name) = lower($1) AND revoked_at IS NULL
       ), old AS (
         UPDATE engineer_tokens SET revoked_at = now()
         WHERE engineer_id IN (SELECT id FROM engineer) AND revoked_at IS NULL
       ), issued AS (
         INSERT INTO engineer_tokens (token_hash, engineer_id) SELECT $2, id FROM engineer
       )
       SELECT name, role, tenants, created_at, revoked_at FROM engineer`,
      [checkName(name), engineerToken.hash(token)],
    );
    return { engineer: toEngineer(this.found(rows, name)), token };
  }

  /** The engineer a token belongs to, or undefined for an unknown or revoked token. */
  async authenticate(token: string): Promise<Engineer | undefined> {
    if (!engineerToken.looksValid(token)) return undefined;
    const hash = engineerToken.hash(token);
    const { rows } = await this.pool.query<EngineerRow & { token_hash: Buffer }>(
      `SELECT e.name, e.role, e.tenants, e.created_at, e.revoked_at, t.token_hash
       FROM engineer_tokens t JOIN engineers e ON e.id = t.engineer_id
       WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND e.revoked_at IS NULL`,
      [hash],
    );
    const row = rows[0];
    // The index lookup already matched; comparing again in constant time keeps the decision itself
    // free of timing differences whatever the database's comparison does.
    if (!row || !engineerToken.sameHash(row.token_hash, hash)) return undefined;
    return toEngineer(row);
  }

  private found(rows: EngineerRow[], name: string): EngineerRow {
    const row = rows[0];
    if (!row) throw AppError.notFound('ENGINEER_NOT_FOUND', `No engineer named ${name.slice(0, 64)} (or they were revoked): see \`users list\`.`, { field: 'name' });
    return row;
  }
}

function toEngineer(row: EngineerRow): Engineer {
  return {
    name: row.name,
    role: row.role,
    tenants: row.tenants,
    createdAt: row.created_at.getTime(),
    revokedAt: row.revoked_at ? row.revoked_at.getTime() : null,
  };
}

function checkName(name: string): string {
  if (!namePattern.test(name)) {
    throw AppError.badRequest(
      'VALIDATION_FAILED',
      'Invalid engineer name: 1 to 64 letters, digits, ".", "_", "@" or "-", starting with a letter or digit (such as alice or alice@msp.example).',
      { field: 'name' },
    );
  }
  return name;
}

function checkRole(role: string): EngineerRole {
  if (!(engineerRoles as readonly string[]).includes(role)) {
    throw AppError.badRequest('VALIDATION_FAILED', `Invalid role ${JSON.stringify(role.slice(0, 32))}: one of ${engineerRoles.join(', ')}.`, { field: 'role' });
  }
  return role as EngineerRole;
}

function checkTenants(tenants: readonly string[]): string[] {
  const cleaned = [...new Set(tenants.map((tenant) => tenant.trim().toLowerCase()))];
  if (cleaned.length === 0 || cleaned.length > maxTenants) {
    throw AppError.badRequest('VALIDATION_FAILED', `Invalid tenants: name 1 to ${maxTenants} tenants, or none to allow every tenant.`, { field: 'tenants' });
  }
  const bad = cleaned.find((tenant) => !tenantPattern.test(tenant));
  if (bad !== undefined) {
    throw AppError.badRequest(
      'VALIDATION_FAILED',
      `Invalid tenant ${JSON.stringify(bad.slice(0, 64))}: a directory (tenant) id or domain as the tenant was registered, or the daemon's id for it.`,
      { field: 'tenants' },
    );
  }
  return cleaned;
}
