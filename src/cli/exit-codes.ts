/**
 * The `loopp` command's exit statuses. Stable: scripts and CI branch on them (listed in every
 * command's --help and in docs/cli.md).
 */
export const EXIT = {
  /** Everything applicable passed (check), the call returned OK (call), the bundle was written. */
  ok: 0,
  /** The plugin ran but failed: a rule failed (check), the RPC ended with a non-OK status (call). */
  failed: 1,
  /** The command line is wrong: unknown option, missing argument, malformed value. */
  usage: 2,
  /** The plugin could not be started or reached: not found, no handshake, refused connection. */
  launch: 3,
  /** A fault in loopp itself; the message asks for a bug report. */
  internal: 4,
  /** Interrupted by SIGINT or SIGTERM; the plugin was stopped first. */
  interrupted: 130,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** The table printed at the end of each --help. */
export const EXIT_HELP = `Exit status:
  0    success
  1    the plugin failed (a rule failed, the call returned a non-OK status)
  2    usage error
  3    the plugin could not be started or reached
  4    internal error in loopp (please report it)
  130  interrupted`;
