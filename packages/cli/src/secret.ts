import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError } from './config.js';

/** Name of the file, under the data directory, that keeps the generated secret. */
export const SECRET_FILE = 'secret';

function errorCode(error: unknown): string | undefined {
  return error instanceof Error && 'code' in error ? String(error.code) : undefined;
}

/** The secrets in the file, one per line, current first (more than one while a rotation overlaps). */
async function readSecrets(path: string): Promise<string[]> {
  const info = await stat(path);
  // Only the owner may read key material.
  if ((info.mode & 0o077) !== 0) await chmod(path, 0o600);
  const secrets = (await readFile(path, 'utf8'))
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean);
  if (secrets.length === 0 || secrets.some((s) => s.length < 32))
    throw new ConfigError(`a secret in ${path} is shorter than 32 characters`);
  return secrets;
}

/** A new random secret: 48 random bytes, base64url. */
export function newSecret(): string {
  return randomBytes(48).toString('base64url');
}

/**
 * The secrets kept in `<dataDir>/secret` without creating any: `null` when the file does not exist
 * (`portcullis admin` must never invent a secret the gateways do not have).
 */
export async function readSecretFile(dataDir: string): Promise<string[] | null> {
  const path = join(dataDir, SECRET_FILE);
  try {
    return await readSecrets(path);
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return null;
    if (error instanceof ConfigError) throw error;
    throw new ConfigError(`cannot read ${path} (${errorCode(error) ?? 'unreadable'})`);
  }
}

/** Replaces the secret file atomically (a temporary file renamed over it), mode 0600, current first. */
export async function writeSecretFile(dataDir: string, secrets: readonly string[]): Promise<string> {
  const path = join(dataDir, SECRET_FILE);
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, `${secrets.join('\n')}\n`, { mode: 0o600, flag: 'wx' });
  await rename(temporary, path);
  return path;
}

/**
 * The secret(s) kept in `<dataDir>/secret` (one per line, current first): read them, or generate 48 random bytes once and store them
 * with mode 0600 (created exclusively, so two processes starting together agree on one secret).
 */
export async function loadOrCreateSecret(
  dataDir: string,
): Promise<{ secret: string; secrets: string[]; created: boolean }> {
  const path = join(dataDir, SECRET_FILE);
  try {
    const secrets = await readSecrets(path);
    return { secret: secrets[0] as string, secrets, created: false };
  } catch (error) {
    if (errorCode(error) !== 'ENOENT') {
      if (error instanceof ConfigError) throw error;
      throw new ConfigError(`cannot read ${path} (${errorCode(error) ?? 'unreadable'})`);
    }
  }
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const secret = newSecret();
  try {
    await writeFile(path, `${secret}\n`, { mode: 0o600, flag: 'wx' });
    return { secret, secrets: [secret], created: true };
  } catch (error) {
    if (errorCode(error) === 'EEXIST') {
      const secrets = await readSecrets(path);
      return { secret: secrets[0] as string, secrets, created: false };
    }
    throw new ConfigError(`cannot write ${path} (${errorCode(error) ?? 'unwritable'})`);
  }
}
