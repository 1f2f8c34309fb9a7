/**
 * What hosts tolerate but a plugin should still get right: the format of its stderr log lines and
 * what it does when started without the magic cookie (by hand, say). These rules warn, never fail.
 */
import { NOT_A_PLUGIN_FIRST_LINE, NOT_A_PLUGIN_TEXT } from '../../wire/env';
import type { LaunchPlan } from '../launch-options';
import { shortLine } from './handshake';
import type { Launch } from './launch';
import { pass, warn, type RuleResult } from './rules';

type LogFormat = 'hclog JSON' | 'zap JSON' | 'other JSON' | 'text';

function formatOf(line: string): LogFormat {
  if (!line.startsWith('{')) return 'text';
  let o: unknown;
  try {
    o = JSON.parse(line);
  } catch {
    return 'text';
  }
  if (typeof o !== 'object' || o === null) return 'text';
  if ('@level' in o && '@message' in o) return 'hclog JSON';
  if ('level' in o && 'msg' in o) return 'zap JSON';
  return 'other JSON';
}

/** hclog JSON always; a Chainlink node also re-logs a LOOP's zap JSON at its level. */
export function logFormatRule(stderr: string, plan: LaunchPlan): RuleResult {
  const id = 'stderr.log-format';
  const lines = stderr.split('\n').map((l) => l.trim()).filter((l) => l !== '');
  if (lines.length === 0) return pass(id, 'no stderr output');
  const counts = new Map<LogFormat, number>();
  for (const l of lines) counts.set(formatOf(l), (counts.get(formatOf(l)) ?? 0) + 1);
  const accepted: LogFormat[] = plan.loop === undefined ? ['hclog JSON'] : ['hclog JSON', 'zap JSON'];
  const odd = lines.find((l) => !accepted.includes(formatOf(l)));
  const summary = `${lines.length} line${lines.length === 1 ? '' : 's'}: ${[...counts].map(([f, n]) => `${n} ${f}`).join(', ')}`;
  if (odd === undefined) return pass(id, summary);
  const evidence = `${summary}; first other line: ${JSON.stringify(odd.slice(0, 160))}`;
  return warn(id, evidence, `Log hclog JSON lines on stderr (@level, @message, @timestamp): hosts pass other lines on at debug level${plan.loop ? '' : ' without a level'}.`);
}


/** Judges the launch without the cookie. */
export function cookieRule(l: Launch, cookieKey: string): RuleResult {
  const id = 'cookie.refusal';
  const said = l.stderr().trim().split('\n').filter(Boolean);
  const stderrText = said.length === 0 ? 'nothing on stderr' : `stderr ${JSON.stringify(said.slice(0, 3).join('\n').slice(0, 240))}`;
  const hint = `Without ${cookieKey} in the environment, print go-plugin's text ("${NOT_A_PLUGIN_FIRST_LINE} ...") on stderr and exit with status 1.`;
  if (l.line !== undefined) return warn(id, `without ${cookieKey}: printed a handshake anyway: ${JSON.stringify(shortLine(l.line.trim()))}`, hint);
  const exit = l.exit();
  if (exit === undefined) return warn(id, `without ${cookieKey}: ${l.failure?.message.split('\n')[0] ?? 'no exit'}; ${stderrText}`, hint);
  const ended = `without ${cookieKey}: exited with ${exit.signal ?? `status ${exit.code}`} after ${exit.atMs - l.spawnedAtMs} ms; ${stderrText}`;
  if (exit.code === 1 && l.stderr().includes(NOT_A_PLUGIN_TEXT)) return pass(id, ended);
  return warn(id, ended, hint);
}
