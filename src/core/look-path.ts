/**
 * Go's exec.LookPath, as loopp needs it in two places (a SecureConfig checks the file that will run;
 * the node's CL_<KIND>_CMD switch refuses a command that is not there): a command with a slash is a
 * path (relative to `cwd`); a bare name is the first regular, executable file of that name on `envPath`.
 */
import { constants as fsConstants } from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';

/** True when `file` is a regular file this process may execute. */
export async function isExecutableFile(file: string): Promise<boolean> {
  try {
    await fsp.access(file, fsConstants.X_OK);
    return (await fsp.stat(file)).isFile();
  } catch {
    return false;
  }
}

/** The file `command` names (see the module comment), or undefined when no such executable exists on `envPath`. */
export async function lookPath(command: string, options: { cwd?: string; envPath?: string }): Promise<string | undefined> {
  if (command.includes('/')) return path.resolve(options.cwd ?? process.cwd(), command);
  for (const dir of (options.envPath ?? '').split(path.delimiter)) {
    if (dir !== '' && (await isExecutableFile(path.join(dir, command)))) return path.join(dir, command);
  }
  return undefined;
}
