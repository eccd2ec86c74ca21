import type pg from 'pg';
import { AppError } from '../errors/AppError';
import type { TenantCredential } from '../microsoft/tenantTokenSource';
import { seal, unseal } from './sharedVaultCipher';
import type { VaultKey } from './vaultKey';

export interface VaultKeyRotation {
  /** Credentials re-encrypted under the new key. */
  credentials: number;
  previousKeyId: string;
  keyId: string;
}

/**
 * Re-encrypts every credential of the shared vault under `next`, in one transaction: either every row
 * moves to the new key or none does. Holding the key row exclusively keeps daemons from writing under the
 * old key meanwhile; afterwards they refuse to write until restarted with the new key, and a daemon
 * started with the old one is refused. Versions are kept: the credentials did not change, so running
 * daemons keep what they have decrypted.
 */
export async function rotateVaultKey(pool: pg.Pool, current: VaultKey, next: VaultKey): Promise<VaultKeyRotation> {
  if (next.id === current.id) {
    throw new AppError({
      status: 400,
      code: 'CONFIG_INVALID',
      message: `The new vault key (${next.source}) is the key the vault already uses: make a new one with openssl rand -base64 32.`,
      details: { setting: '--new-key-file' },
    });
  }
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const stored = (await client.query<{ key_id: string }>('SELECT key_id FROM vault_key FOR UPDATE')).rows[0]?.key_id;
    if (stored !== undefined && stored !== current.id) {
      throw new AppError({
        status: 400,
        code: 'VAULT_KEY_MISMATCH',
        message: `The current vault key from ${current.source} (key id ${current.id}) is not the key the shared vault uses (key id ${stored}): give the key the daemons run with. Nothing was changed.`,
        details: { keyId: current.id, vaultKeyId: stored },
      });
    }
    const { rows } = await client.query<{ credential_id: string; key_id: string; iv: Buffer; tag: Buffer; ciphertext: Buffer }>(
      'SELECT credential_id, key_id, iv, tag, ciphertext FROM vault_credentials ORDER BY credential_id FOR UPDATE',
    );
    for (const row of rows) {
      let credential: TenantCredential;
      try {
        if (row.key_id !== current.id) throw new Error('written under another key');
        credential = unseal(current.bytes, row.credential_id, row);
      } catch (error) {
        throw new AppError({
          status: 500,
          code: 'VAULT_UNREADABLE',
          message: `The credentials stored for tenant ${row.credential_id} cannot be decrypted with the current key, so the vault key was not rotated and nothing was changed. Enter that tenant's credentials again (or remove it), then rotate again.`,
          details: { tenantId: row.credential_id },
          cause: error,
        });
      }
      const sealed = seal(next.bytes, row.credential_id, credential);
      await client.query('UPDATE vault_credentials SET key_id = $2, iv = $3, tag = $4, ciphertext = $5 WHERE credential_id = $1', [
        row.credential_id,
        next.id,
        sealed.iv,
        sealed.tag,
        sealed.ciphertext,
      ]);
    }
    if (stored === undefined) await client.query('INSERT INTO vault_key (key_id) VALUES ($1)', [next.id]);
    else await client.query('UPDATE vault_key SET key_id = $1, rotated_at = now()', [next.id]);
    await client.query('COMMIT');
    return { credentials: rows.length, previousKeyId: current.id, keyId: next.id };
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}
