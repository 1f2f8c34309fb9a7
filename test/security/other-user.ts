/**
 * Another local user for the socket tests: uid 65534 (nobody), run as a child with setuid/setgid.
 *
 * - `switchUserSkipReason` says, before any test is declared, whether this process may switch users
 *   (root, or CAP_SETUID + CAP_SETGID); without that privilege the cross-user tests are skipped with
 *   that reason, the one kind of skip the project allows.
 * - `socketGroup` picks, from /etc/group, a group for PLUGIN_UNIX_SOCKET_GROUP and reports its real
 *   name (gid 1 is `daemon` on Debian but `bin` on Fedora and Alpine).
 * - `prepareOtherUser` puts the probe somewhere the other user can read it: the checkout may sit under
 *   a directory only its owner may traverse (a 0700 home or temp dir), so the probe is bundled into
 *   one self-contained file in a fresh 0755 temp directory, and a copy of node is put beside it when
 *   process.execPath is out of that user's reach.
 */
import { execFile, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as esbuild from 'esbuild';

export const OTHER_UID = 65534;
/** The other user's group when it must not be a member of the socket's group. */
export const NOGROUP = 65534;

export interface GroupEntry {
  name: string;
  gid: number;
}

/** The entries of an /etc/group text with a numeric gid (comments and malformed lines ignored). */
export function parseGroupFile(content: string): GroupEntry[] {
  const out: GroupEntry[] = [];
  for (const line of content.split('\n')) {
    const [name, , gid] = line.split(':');
    if (name && !name.startsWith('#') && gid !== undefined && /^[0-9]+$/.test(gid)) out.push({ name, gid: Number(gid) });
  }
  return out;
}

/**
 * The group the socket tests hand to PLUGIN_UNIX_SOCKET_GROUP: the first entry of `content` whose gid
 * is not in `avoid` (root's and the test's own gid, so the socket's group is visibly changed, and the
 * other user's NOGROUP, so a stranger is not a member) and whose name resolves back to that gid the way
 * loopp resolves it (first entry of that name) and cannot be taken for a numeric gid.
 */
export function socketGroup(content: string, avoid: readonly number[]): GroupEntry | undefined {
  const entries = parseGroupFile(content);
  return entries.find((e) => !avoid.includes(e.gid) && !/^[0-9]+$/.test(e.name) && entries.find((f) => f.name === e.name)?.gid === e.gid);
}

/** The socket tests' group on this machine (from /etc/group); fails with the reason when there is none. */
export function systemSocketGroup(): GroupEntry {
  const content = fs.readFileSync('/etc/group', 'utf8');
  const avoid = [...new Set([0, process.getgid?.() ?? 0, NOGROUP])];
  const g = socketGroup(content, avoid);
  if (!g) throw new Error(`/etc/group has no group with a gid other than ${avoid.join(' and ')}: the socket-group tests need one`);
  return g;
}

/**
 * Undefined when this process may run a child as uid OTHER_UID with each of `gids` as its group;
 * otherwise the reason it may not (the skip reason of the cross-user tests). Only a refused switch
 * (EPERM: not root, or no CAP_SETUID/CAP_SETGID; EINVAL: the id is not mapped in this user namespace)
 * counts; any other failure is left to the tests, which then fail.
 */
export function switchUserSkipReason(gids: readonly number[]): string | undefined {
  for (const gid of gids) {
    const r = spawnSync(process.execPath, ['-e', ''], { uid: OTHER_UID, gid, cwd: '/', env: {}, stdio: 'ignore', timeout: 30_000 });
    const code = (r.error as NodeJS.ErrnoException | undefined)?.code;
    const self = `this process (uid ${process.getuid?.()}, gid ${process.getgid?.()})`;
    if (code === 'EPERM') {
      return `needs the privilege to switch users (root, or CAP_SETUID and CAP_SETGID) to run a probe as uid ${OTHER_UID} gid ${gid}; ${self} got EPERM`;
    }
    if (code === 'EINVAL') return `cannot run a probe as uid ${OTHER_UID} gid ${gid}: ${self} got EINVAL (the id is not mapped in its user namespace)`;
  }
  // Privileged but uid 65534 itself: a probe as that uid would not be another user.
  if (process.getuid?.() === OTHER_UID) return `runs as uid ${OTHER_UID} itself, so a probe as uid ${OTHER_UID} would not be another user`;
  return undefined;
}

export interface Probe {
  connect?: string[];
  list?: string[];
  rpc?: string;
}

export interface OtherUser {
  /** Directory (0755, in the OS temp dir) of the bundled probe and, when needed, of a copy of node. */
  dir: string;
  /** The node the other user runs: the one given (process.execPath by default), or its copy in `dir`. */
  node: string;
  /** Runs the probe as uid OTHER_UID with primary group `gid` (no supplementary groups); its outcomes. */
  run(probe: Probe, gid?: number): Promise<Record<string, string>>;
  /** Removes `dir`. */
  remove(): void;
}

/** Runs `node -e <code>` as the other user (cwd `/`, empty environment); its stdout, or why it did not run. */
function runAsOther(node: string, gid: number): { ok: true } | { ok: false; why: string } {
  const r = spawnSync(node, ['-e', 'process.stdout.write("ran")'], { uid: OTHER_UID, gid, cwd: '/', env: {}, encoding: 'utf8', timeout: 30_000 });
  if (r.error) return { ok: false, why: `${(r.error as NodeJS.ErrnoException).code ?? r.error.message}` };
  if (r.status !== 0 || r.stdout !== 'ran') return { ok: false, why: `exit ${r.status ?? r.signal}: ${r.stderr.trim()}` };
  return { ok: true };
}

/**
 * Bundles `probeScript` (a compiled script, with its imports) into a fresh 0755 temp directory as one
 * 0644 file, and finds a node the other user can execute with each of `gids`: `nodeBinary`, or else a
 * copy of it in that directory. Needs the privilege to switch users.
 */
export function prepareOtherUser(probeScript: string, gids: readonly number[], nodeBinary = process.execPath): OtherUser {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'loopp-other-user-'));
  const remove = () => fs.rmSync(dir, { recursive: true, force: true });
  try {
    fs.chmodSync(dir, 0o755);
    const probe = path.join(dir, 'probe.js');
    esbuild.buildSync({ entryPoints: [probeScript], bundle: true, platform: 'node', target: 'node20', format: 'cjs', outfile: probe, logLevel: 'error' });
    fs.chmodSync(probe, 0o644);
    let node = nodeBinary;
    const first = gids.map((g) => runAsOther(node, g)).find((r) => !r.ok);
    if (first && !first.ok) {
      // Typically EACCES: node sits under a directory the other user cannot traverse (e.g. ~/.nvm in a 0700 home).
      const copy = path.join(dir, 'node');
      fs.copyFileSync(nodeBinary, copy);
      fs.chmodSync(copy, 0o755);
      const again = gids.map((g) => runAsOther(copy, g)).find((r) => !r.ok);
      if (again && !again.ok) {
        throw new Error(
          `uid ${OTHER_UID} cannot run node: ${nodeBinary} failed (${first.why}) and so did its copy ${copy} (${again.why}); ` +
            'put a node binary that other users may execute on a world-traversable path and run the tests with it',
        );
      }
      node = copy;
    }
    return {
      dir,
      node,
      remove,
      run: (p: Probe, gid = NOGROUP) =>
        new Promise((resolve, reject) => {
          execFile(node, [probe, JSON.stringify(p)], { uid: OTHER_UID, gid, cwd: dir, env: {}, timeout: 30_000 }, (err, stdout, stderr) => {
            if (err) return reject(new Error(`probe as uid ${OTHER_UID} gid ${gid} failed: ${err.message}\n${stderr}`));
            const out = JSON.parse(stdout) as Record<string, string>;
            // The probe really ran as the other user, without our groups.
            if (out.uid !== String(OTHER_UID) || out.gid !== String(gid) || (out.groups !== '' && out.groups !== String(gid))) {
              return reject(new Error(`probe ran as uid ${out.uid} gid ${out.gid} groups ${out.groups}, not uid ${OTHER_UID} gid ${gid} alone`));
            }
            resolve(out);
          });
        }),
    };
  } catch (e) {
    remove();
    throw e;
  }
}
