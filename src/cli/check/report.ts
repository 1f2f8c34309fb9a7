/**
 * The check report: readable text (colour only on a terminal, through output.ts's palette) or JSON
 * for CI, whose schema is stable: {plugin, rules: [{id, title, status, evidence, hint?}], summary}.
 */
import { EXIT, type ExitCode } from '../exit-codes';
import type { LaunchFailure, LaunchPlan } from '../launch-options';
import type { Palette } from '../output';
import { shortLine } from './handshake';
import type { RuleResult, RuleStatus } from './rules';
import type { CheckOutcome } from './session';

export interface CheckSummary {
  readonly pass: number;
  readonly fail: number;
  readonly warn: number;
  readonly 'n/a': number;
  readonly exit: ExitCode;
  readonly launchError?: { code: string; message: string; hint: string; stderrTail: string };
}

/** 0 only when every applicable rule passed (warnings allowed); launch failures and interrupts first. */
export function exitOf(o: CheckOutcome): ExitCode {
  if (o.interrupted) return EXIT.interrupted;
  if (o.launchFailure !== undefined) return EXIT.launch;
  return o.rules.some((r) => r.status === 'fail') ? EXIT.failed : EXIT.ok;
}

export function summaryOf(o: CheckOutcome): CheckSummary {
  const count = (s: RuleStatus) => o.rules.filter((r) => r.status === s).length;
  const base = { pass: count('pass'), fail: count('fail'), warn: count('warn'), 'n/a': count('n/a'), exit: exitOf(o) };
  const f: LaunchFailure | undefined = o.launchFailure;
  return f === undefined ? base : { ...base, launchError: { code: f.code, message: f.message, hint: f.hint, stderrTail: f.stderrTail } };
}

export function jsonReport(o: CheckOutcome, plan: LaunchPlan): string {
  const plugin = {
    command: o.plugin.command,
    args: o.plugin.args,
    pid: o.plugin.pid ?? null,
    handshake: o.plugin.handshake ?? null,
    cookie: plan.handshake.magicCookieKey,
    versions: plan.versions,
    loop: plan.loop ?? null,
    autoMTLS: plan.autoMTLS,
    mux: plan.mux,
    tcp: plan.tcp,
  };
  return `${JSON.stringify({ plugin, rules: o.rules, summary: summaryOf(o) }, null, 2)}\n`;
}

const LABEL: Record<RuleStatus, string> = { pass: 'PASS', fail: 'FAIL', warn: 'WARN', 'n/a': 'n/a ' };

function paintStatus(s: RuleStatus, p: Palette): string {
  const paint = s === 'pass' ? p.pass : s === 'fail' ? p.fail : s === 'warn' ? p.warn : p.dim;
  return paint(LABEL[s]);
}

function ruleText(r: RuleResult, width: number, p: Palette): string {
  // One line for a rule that does not apply: its id and why.
  if (r.status === 'n/a') return `  ${paintStatus(r.status, p)}  ${r.id.padEnd(width)}  ${p.dim(r.evidence)}`;
  const head = `  ${paintStatus(r.status, p)}  ${p.bold(r.id.padEnd(width))}  ${r.title}`;
  const evidence = `\n        ${r.evidence}`;
  const hint = r.hint === undefined ? '' : `\n        ${p.dim('fix:')} ${r.hint}`;
  return head + evidence + hint;
}

function verdictText(s: CheckSummary, p: Palette): string {
  const counts = `${s.pass} pass, ${s.fail} fail, ${s.warn} warn, ${s['n/a']} n/a`;
  if (s.exit === EXIT.ok) return `${counts}: ${p.pass('OK')} (exit 0)`;
  if (s.exit === EXIT.launch) return `${counts}: ${p.fail('the plugin could not be started')} (exit ${s.exit})`;
  if (s.exit === EXIT.interrupted) return `${counts}: ${p.warn('interrupted')} (exit ${s.exit})`;
  return `${counts}: ${p.fail('FAILED')} (exit ${s.exit})`;
}

export function textReport(o: CheckOutcome, plan: LaunchPlan, p: Palette): string {
  const width = Math.max(...o.rules.map((r) => r.id.length));
  const command = [plan.command, ...plan.args].join(' ');
  const offered = `cookie ${plan.handshake.magicCookieKey}, versions ${plan.versions.join(',')}${plan.loop ? `, LOOP ${plan.loop}` : ''}, AutoMTLS ${plan.autoMTLS ? 'on' : 'off'}${plan.mux ? ', mux' : ''}${plan.tcp ? ', tcp' : ''}`;
  const head = [
    `${p.bold('loopp check')} ${command}`,
    `  offered:   ${offered}`,
    `  pid:       ${o.plugin.pid ?? '-'}`,
    `  handshake: ${o.plugin.handshake === undefined ? '-' : shortLine(o.plugin.handshake)}`,
  ];
  return `${head.join('\n')}\n\n${o.rules.map((r) => ruleText(r, width, p)).join('\n')}\n\n${verdictText(summaryOf(o), p)}\n`;
}
