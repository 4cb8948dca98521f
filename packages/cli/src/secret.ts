import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError } from './config.js';

/** Name of the file, under the data directory, that keeps the generated secret. */
export const SECRET_FILE = 'secret';

function errorCode(error: unknown): string | undefined {
  return error instanceof Error && 'code' in error ? String(error.code) : undefined;
}

async function readSecret(path: string): Promise<string> {
  const info = await stat(path);
  // Only the owner may read key material.
  if ((info.mode & 0o077) !== 0) await chmod(path, 0o600);
  const secret = (await readFile(path, 'utf8')).trim();
  if (secret.length < 32) throw new ConfigError(`the secret in ${path} is shorter than 32 characters`);
  return secret;
}

/**
 * The secret kept in `<dataDir>/secret`: read it, or generate 48 random bytes once and store them
 * with mode 0600 (created exclusively, so two processes starting together agree on one secret).
 */
export async function loadOrCreateSecret(dataDir: string): Promise<{ secret: string; created: boolean }> {
  const path = join(dataDir, SECRET_FILE);
  try {
    return { secret: await readSecret(path), created: false };
  } catch (error) {
    if (errorCode(error) !== 'ENOENT') {
      if (error instanceof ConfigError) throw error;
      throw new ConfigError(`cannot read ${path} (${errorCode(error) ?? 'unreadable'})`);
    }
  }
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const secret = randomBytes(48).toString('base64url');
  try {
    await writeFile(path, `${secret}\n`, { mode: 0o600, flag: 'wx' });
    return { secret, created: true };
  } catch (error) {
    if (errorCode(error) === 'EEXIST') return { secret: await readSecret(path), created: false };
    throw new ConfigError(`cannot write ${path} (${errorCode(error) ?? 'unwritable'})`);
  }
}
