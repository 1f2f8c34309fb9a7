/**
 * go-plugin's SecureConfig: the executable's digest is checked before it runs, and the file checked
 * is the file that runs (resolved once on the PATH of the plugin's environment, as Go checks and runs
 * cmd.Path, then spawned by that absolute path).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import * as fsp from 'node:fs/promises';
import { StartError, messageOf } from '../core/errors';
import { lookPath } from '../core/look-path';

export interface SecureConfig {
  /** Expected digest of the executable, hex or raw bytes. */
  checksum: string | Uint8Array;
  /** Hash algorithm (default sha256). */
  hash?: string;
}

async function resolveExecutable(command: string, cwd: string | undefined, envPath: string | undefined): Promise<string> {
  const file = await lookPath(command, { cwd, envPath });
  if (file !== undefined) return file;
  throw new StartError('ERR_LOOPP_CHECKSUM', `error verifying checksum: exec: ${JSON.stringify(command)}: executable file not found in $PATH`, {
    input: command,
    hint: "Give the plugin's path, or put it on the PATH of its environment.",
  });
}

function expectedDigest(sc: SecureConfig): Buffer {
  if (typeof sc.checksum === 'string' && !/^([0-9a-fA-F]{2})+$/.test(sc.checksum)) {
    throw new StartError('ERR_LOOPP_CHECKSUM', 'error verifying checksum: checksum is not hex', { input: sc.checksum, hint: 'Give the digest as hex.' });
  }
  const expected = typeof sc.checksum === 'string' ? Buffer.from(sc.checksum, 'hex') : Buffer.from(sc.checksum);
  if (expected.length === 0) {
    throw new StartError('ERR_LOOPP_CHECKSUM', 'error verifying checksum: no checksum provided', { hint: 'Set secureConfig.checksum.' });
  }
  return expected;
}

/** The absolute path of the executable whose digest matched; throws StartError `ERR_LOOPP_CHECKSUM`. */
export async function verifiedExecutable(command: string, cwd: string | undefined, envPath: string | undefined, sc: SecureConfig): Promise<string> {
  const expected = expectedDigest(sc);
  const file = await resolveExecutable(command, cwd, envPath);
  let actual: Buffer;
  try {
    const hash = createHash(sc.hash ?? 'sha256');
    hash.update(await fsp.readFile(file));
    actual = hash.digest();
  } catch (err) {
    throw new StartError('ERR_LOOPP_CHECKSUM', `error verifying checksum: ${messageOf(err)}`, { input: file, cause: err });
  }
  if (actual.length !== expected.length || !timingSafeEqual(actual, expected)) {
    throw new StartError('ERR_LOOPP_CHECKSUM', 'checksums did not match', {
      input: { file, expected: expected.toString('hex'), actual: actual.toString('hex') },
      hint: 'The executable is not the one you pinned; rebuild it or update the checksum.',
    });
  }
  return file;
}
