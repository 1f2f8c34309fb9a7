/**
 * `loopp check` as a real process (`node dist/src/cli/main.js check --json ...`): it passes on
 * go-plugin's own example plugins, loopp's TS plugins, chainlink-common's LOOP driver and the real
 * chainlink-feeds; each fixture of fixtures/check/ fails (or warns) exactly the rule it breaks; bad
 * input gives a typed message and an exit status, never a crash or a hang, and nothing is left:
 * every plugin launch carries a marker variable, and no process with it survives a run, nor any
 * file in the TMPDIR the check ran with.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { BIN, ROOT, binary, fixture, fixtureAt, goBinary, listDir, markedProcesses, rmDir, run, tmpDir, LOOPP_CLI } from '../helpers';

const COOKIE = ['--cookie', 'BASIC_PLUGIN=hello'];

type Status = 'pass' | 'fail' | 'n/a' | 'warn';

/** Every rule id, in report order (docs/cli.md lists the same). */
const RULE_IDS = [
  'handshake.line',
  'handshake.core-version',
  'handshake.app-version',
  'handshake.network',
  'handshake.address',
  'handshake.protocol',
  'handshake.server-cert',
  'handshake.mux',
  'handshake.wrong-version',
  'transport.network',
  'transport.unix-socket',
  'transport.tcp-port',
  'transport.connect',
  'mtls.cert-key',
  'mtls.cert-names',
  'mtls.cert-validity',
  'mtls.peer-cert',
  'grpc.health',
  'grpc.reflection',
  'grpc.stdio',
  'grpc.broker',
  'grpc.shutdown',
  'cleanup.process',
  'cleanup.socket',
  'cleanup.temp-files',
  'stderr.log-format',
  'cookie.refusal',
] as const;
type RuleId = (typeof RULE_IDS)[number];

interface Report {
  plugin: { command: string; args: string[]; pid: number | null; handshake: string | null };
  rules: Array<{ id: RuleId; title: string; status: Status; evidence: string; hint?: string }>;
  summary: { pass: number; fail: number; warn: number; 'n/a': number; exit: number; launchError?: { code: string; message: string; hint: string } };
}

/** A plugin on a unix socket, without --mux: everything passes but the two rules of other setups. */
function healthy(over: Partial<Record<RuleId, Status>> = {}): Record<RuleId, Status> {
  const all = Object.fromEntries(RULE_IDS.map((id) => [id, 'pass'])) as Record<RuleId, Status>;
  return { ...all, 'handshake.mux': 'n/a', 'transport.tcp-port': 'n/a', ...over };
}

const na = (...ids: RuleId[]): Partial<Record<RuleId, Status>> => Object.fromEntries(ids.map((id) => [id, 'n/a']));
const GRPC: RuleId[] = ['grpc.health', 'grpc.reflection', 'grpc.stdio', 'grpc.broker', 'grpc.shutdown'];
const CLEANUP: RuleId[] = ['cleanup.process', 'cleanup.socket', 'cleanup.temp-files'];
const CERT: RuleId[] = ['mtls.cert-key', 'mtls.cert-names', 'mtls.cert-validity'];
const AFTER_ADDRESS: RuleId[] = ['transport.network', 'transport.unix-socket', 'transport.tcp-port', 'transport.connect', ...CERT, 'mtls.peer-cert', ...GRPC, ...CLEANUP];

interface CheckRun {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Runs `loopp check <args>`; asserts that no marked process and no file in its TMPDIR is left. */
async function loopp(args: string[], timeoutMs = 60_000): Promise<CheckRun> {
  const tmp = tmpDir('loopp-cli-check-');
  const marker = `LOOPP_CHECK_TEST=${randomUUID()}`;
  const t0 = Date.now();
  try {
    const r = await run(process.execPath, [LOOPP_CLI, 'check', '--env', marker, ...args], { env: { ...process.env, TMPDIR: tmp }, timeoutMs });
    assert.deepEqual(markedProcesses(marker), [], 'a plugin process outlived the check');
    assert.deepEqual(listDir(tmp), [], 'check left files in its TMPDIR');
    return { code: r.code, stdout: r.stdout, stderr: r.stderr, ms: Date.now() - t0 };
  } finally {
    rmDir(tmp);
  }
}

async function checkJson(args: string[]): Promise<{ code: number | null; report: Report; stderr: string }> {
  const r = await loopp(['--json', ...args]);
  let report: Report;
  try {
    report = JSON.parse(r.stdout) as Report;
  } catch {
    assert.fail(`no JSON report (exit ${r.code}); stderr:\n${r.stderr}\nstdout:\n${r.stdout}`);
  }
  assert.deepEqual(report.rules.map((x) => x.id), [...RULE_IDS]);
  assert.equal(report.summary.exit, r.code);
  return { code: r.code, report, stderr: r.stderr };
}

function statuses(report: Report): Record<string, Status> {
  return Object.fromEntries(report.rules.map((r) => [r.id, r.status]));
}

/** Asserts the exact statuses, showing the evidence of every rule that differs. */
function assertStatuses(report: Report, expected: Record<RuleId, Status>): void {
  const got = statuses(report);
  const off = report.rules.filter((r) => r.status !== expected[r.id]).map((r) => `${r.id}: ${r.status} (want ${expected[r.id]}): ${r.evidence}`);
  assert.deepEqual(got, expected, off.join('\n'));
}

function ruleOf(report: Report, id: RuleId) {
  return report.rules.find((r) => r.id === id)!;
}

describe('loopp check passes on real plugins', () => {
  const cases: Array<{ name: string; args: () => string[]; expect: Record<RuleId, Status> }> = [
    { name: "go-plugin's examples/grpc plugin-go-grpc (v1.8.0)", args: () => [...COOKIE, goBinary('example-kv-go')], expect: healthy() },
    { name: "go-plugin's examples/bidirectional plugin-go-grpc (v1.8.0)", args: () => [...COOKIE, goBinary('example-counter-go')], expect: healthy() },
    { name: 'bin/kv-plugin-ts', args: () => [...COOKIE, binary('kv-plugin-ts')], expect: healthy() },
    { name: 'bin/counter-plugin-ts', args: () => [...COOKIE, binary('counter-plugin-ts')], expect: healthy() },
    { name: 'bin/counter-plugin-ts --mux', args: () => [...COOKIE, '--mux', binary('counter-plugin-ts')], expect: healthy({ 'handshake.mux': 'pass' }) },
    { name: 'bin/relayer-loop-ts --loop relayer', args: () => ['--loop', 'relayer', binary('relayer-loop-ts')], expect: healthy() },
    { name: "chainlink-common's LOOP driver -cmd=relayer --loop relayer", args: () => ['--loop', 'relayer', goBinary('loop-test-plugin'), '-cmd=relayer'], expect: healthy() },
    { name: 'the real chainlink-feeds --loop median', args: () => ['--loop', 'median', goBinary('chainlink-feeds')], expect: healthy() },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const { code, report } = await checkJson(c.args());
      assertStatuses(report, c.expect);
      assert.equal(code, 0);
      assert.match(report.plugin.handshake ?? '', /^1\|\d+\|unix\|/);
    });
  }

  it("go-plugin's bidirectional example with --mux: its socket stays after Shutdown (go-plugin v1.8.0 closes the muxer, not the listener)", async () => {
    const { code, report } = await checkJson([...COOKIE, '--mux', goBinary('example-counter-go')]);
    assertStatuses(report, healthy({ 'handshake.mux': 'pass', 'cleanup.socket': 'fail' }));
    assert.equal(code, 1);
    assert.match(ruleOf(report, 'cleanup.socket').evidence, /is still there$/);
  });

  it('reports the services and methods found by reflection, and the Go plugin\'s answers', async () => {
    const { report } = await checkJson([...COOKIE, goBinary('example-kv-go')]);
    assert.match(ruleOf(report, 'grpc.reflection').evidence, /^v1: 7 services: .*proto\.KV \(Get, Put\)/);
    assert.match(ruleOf(report, 'handshake.wrong-version').evidence, /^offered only 9999: printed "1\|1\|unix\|.*a host refuses it: Incompatible API version with plugin\. Plugin version: 1, Client versions: \[9999\]$/);
    assert.match(ruleOf(report, 'cookie.refusal').evidence, /^without BASIC_PLUGIN: exited with status 1 after \d+ ms; stderr "This binary is a plugin\./);
    assert.match(ruleOf(report, 'grpc.shutdown').evidence, /exited with status 0 \d+ ms after the call$/);
  });
});

/** Fixture (fixtures/check/<rule id>.js): the options it needs and the statuses it must give. */
const FIXTURES: Array<{ id: RuleId; options?: string[]; expect: Record<RuleId, Status>; exit: number }> = [
  { id: 'handshake.line', exit: 3, expect: { ...healthy(na(...RULE_IDS)), 'handshake.line': 'fail', 'stderr.log-format': 'pass' } },
  { id: 'handshake.core-version', exit: 1, expect: healthy({ 'handshake.core-version': 'fail' }) },
  { id: 'handshake.app-version', exit: 1, expect: healthy({ 'handshake.app-version': 'fail' }) },
  { id: 'handshake.network', exit: 1, expect: healthy({ ...na('handshake.address', ...AFTER_ADDRESS), 'handshake.network': 'fail' }) },
  { id: 'handshake.address', exit: 1, expect: healthy({ ...na(...AFTER_ADDRESS), 'handshake.address': 'fail' }) },
  { id: 'handshake.protocol', exit: 1, expect: healthy({ 'handshake.protocol': 'fail' }) },
  { id: 'handshake.server-cert', exit: 1, expect: healthy({ ...na(...CERT, 'mtls.peer-cert', ...GRPC, ...CLEANUP), 'handshake.server-cert': 'fail' }) },
  { id: 'handshake.mux', options: ['--mux'], exit: 1, expect: healthy({ ...na('transport.connect', 'mtls.peer-cert', ...GRPC, ...CLEANUP), 'handshake.mux': 'fail' }) },
  { id: 'handshake.wrong-version', exit: 1, expect: healthy({ 'handshake.wrong-version': 'fail' }) },
  { id: 'transport.network', exit: 1, expect: healthy({ 'transport.network': 'fail', 'transport.unix-socket': 'n/a', 'transport.tcp-port': 'pass' }) },
  { id: 'transport.unix-socket', exit: 1, expect: healthy({ 'transport.unix-socket': 'fail' }) },
  { id: 'transport.tcp-port', options: ['--tcp'], exit: 1, expect: healthy({ 'transport.tcp-port': 'fail', 'transport.unix-socket': 'n/a' }) },
  { id: 'transport.connect', exit: 1, expect: healthy({ ...na('mtls.peer-cert', ...GRPC, ...CLEANUP), 'transport.connect': 'fail' }) },
  { id: 'mtls.cert-key', exit: 1, expect: healthy({ 'mtls.cert-key': 'fail' }) },
  { id: 'mtls.cert-names', exit: 1, expect: healthy({ ...na(...GRPC, ...CLEANUP), 'mtls.cert-names': 'fail' }) },
  { id: 'mtls.cert-validity', exit: 1, expect: healthy({ ...na(...GRPC, ...CLEANUP), 'mtls.cert-validity': 'fail' }) },
  { id: 'mtls.peer-cert', exit: 1, expect: healthy({ ...na(...GRPC, ...CLEANUP), 'mtls.peer-cert': 'fail' }) },
  { id: 'grpc.health', exit: 1, expect: healthy({ 'grpc.health': 'fail' }) },
  { id: 'grpc.reflection', exit: 1, expect: healthy({ 'grpc.reflection': 'fail' }) },
  { id: 'grpc.stdio', exit: 1, expect: healthy({ 'grpc.stdio': 'fail' }) },
  { id: 'grpc.broker', exit: 1, expect: healthy({ 'grpc.broker': 'fail' }) },
  { id: 'grpc.shutdown', exit: 1, expect: healthy({ ...na(...CLEANUP), 'grpc.shutdown': 'fail' }) },
  { id: 'cleanup.process', exit: 1, expect: healthy({ 'cleanup.process': 'fail' }) },
  { id: 'cleanup.socket', exit: 1, expect: healthy({ 'cleanup.socket': 'fail' }) },
  { id: 'cleanup.temp-files', exit: 1, expect: healthy({ 'cleanup.temp-files': 'fail' }) },
  { id: 'stderr.log-format', exit: 0, expect: healthy({ 'stderr.log-format': 'warn' }) },
  { id: 'cookie.refusal', exit: 0, expect: healthy({ 'cookie.refusal': 'warn' }) },
];

function checkFixture(id: RuleId): string {
  return fixtureAt(`check/${id}`);
}

describe('loopp check on fixtures/check: each breaks exactly its rule', () => {
  it('every rule has a fixture', () => {
    assert.deepEqual(FIXTURES.map((f) => f.id), [...RULE_IDS]);
  });
  for (const f of FIXTURES) {
    it(`${f.id}: ${f.expect[f.id]}, exit ${f.exit}`, async () => {
      const { code, report } = await checkJson([...COOKIE, '--timeout', '10s', ...(f.options ?? []), process.execPath, checkFixture(f.id)]);
      assertStatuses(report, f.expect);
      assert.equal(code, f.exit);
      const broken = ruleOf(report, f.id);
      assert.match(broken.hint ?? '', /\S/, 'a failed or warned rule says what to do');
      // Rules left unevaluated name the rule that stopped them.
      for (const r of report.rules.filter((x) => x.status === 'n/a' && x.evidence.startsWith('not reached'))) assert.match(r.evidence, new RegExp(`\\b${f.id.replace('.', '\\.')}\\b`), r.id);
    });
  }
});

describe('loopp check: bad input never crashes or hangs, and leaves nothing', () => {
  it('no plugin command: usage error, exit 2', async () => {
    const r = await loopp([...COOKIE]);
    assert.equal(r.code, 2);
    assert.equal(r.stdout, '');
    assert.equal(r.stderr, 'loopp check: missing the plugin command: loopp <command> [options] <plugin> [plugin args...]\n');
  });

  it('no cookie and no --loop: usage error naming --cookie, exit 2', async () => {
    const r = await loopp([binary('kv-plugin-ts')]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^loopp check: --cookie KEY=VALUE is required/);
  });

  it('an unknown LOOP kind: usage error listing the kinds, exit 2', async () => {
    const r = await loopp(['--loop', 'nope', binary('relayer-loop-ts')]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--loop "nope": unknown LOOP kind; the kinds are relayer, median, /);
  });

  it('a binary that does not exist: ERR_LOOPP_SPAWN, exit 3, the report still printed', async () => {
    const { code, report, stderr } = await checkJson([...COOKIE, path.join(BIN, 'no-such-plugin')]);
    assert.equal(code, 3);
    assertStatuses(report, { ...healthy(na(...RULE_IDS)), 'handshake.line': 'fail', 'stderr.log-format': 'pass' });
    assert.equal(report.summary.launchError?.code, 'ERR_LOOPP_SPAWN');
    assert.equal(report.plugin.pid, null);
    assert.equal(report.plugin.handshake, null);
    assert.match(stderr, /^loopp check: could not start the plugin \(ERR_LOOPP_SPAWN\): error starting plugin: spawn .*no-such-plugin ENOENT\n  Check the plugin path/);
  });

  it('a plugin that hangs before its handshake: ERR_LOOPP_START_TIMEOUT after --timeout, exit 3', async () => {
    const t0 = Date.now();
    const { code, report } = await checkJson([...COOKIE, '--timeout', '1s', process.execPath, fixture('never-handshakes')]);
    assert.equal(code, 3);
    assert.equal(report.summary.launchError?.code, 'ERR_LOOPP_START_TIMEOUT');
    assert.ok(Date.now() - t0 < 6000, `took ${Date.now() - t0} ms`);
  });

  it('a plugin that exits before its handshake: ERR_LOOPP_EXITED_BEFORE_HANDSHAKE with its stderr, exit 3', async () => {
    const { code, report } = await checkJson([...COOKIE, process.execPath, fixture('exits-before-handshake')]);
    assert.equal(code, 3);
    assert.equal(report.summary.launchError?.code, 'ERR_LOOPP_EXITED_BEFORE_HANDSHAKE');
  });

  it('a plugin that prints garbage: ERR_LOOPP_HANDSHAKE_MALFORMED, exit 3', async () => {
    const { code, report } = await checkJson([...COOKIE, process.execPath, fixture('junk-first-line')]);
    assert.equal(code, 3);
    assert.equal(report.summary.launchError?.code, 'ERR_LOOPP_HANDSHAKE_MALFORMED');
    assert.equal(ruleOf(report, 'handshake.line').evidence, 'first stdout line is not a handshake: "lolinvalid"');
  });

  it('SIGINT stops the plugin and exits 130', async () => {
    const tmp = tmpDir('loopp-cli-check-');
    const marker = `LOOPP_CHECK_TEST=${randomUUID()}`;
    try {
      const { spawn } = await import('node:child_process');
      const child = spawn(process.execPath, [LOOPP_CLI, 'check', '--env', marker, ...COOKIE, process.execPath, checkFixture('grpc.shutdown')], { env: { ...process.env, TMPDIR: tmp }, stdio: 'ignore' });
      setTimeout(() => child.kill('SIGINT'), 1500);
      const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
      assert.equal(code, 130);
      assert.deepEqual(markedProcesses(marker), []);
      assert.deepEqual(listDir(tmp), []);
    } finally {
      rmDir(tmp);
    }
  });
});

describe('loopp check: output', () => {
  it('loopp --help lists check', async () => {
    const r = await run(process.execPath, [LOOPP_CLI, '--help']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /\n {2}check {2,}launch a plugin and check it against the go-plugin protocol, rule by rule\n/);
  });

  it('--help: usage, options, examples and the exit table', async () => {
    const r = await run(process.execPath, [LOOPP_CLI, 'check', '--help']);
    assert.equal(r.code, 0);
    for (const text of ['Usage: loopp check [options] <plugin>', '--cookie KEY=VALUE', '--loop KIND', '--json', 'Examples:', 'Exit status:', '130  interrupted']) assert.ok(r.stdout.includes(text), text);
  });

  it('the text report: one block per rule, no colour on a pipe, the verdict last', async () => {
    const r = await loopp([...COOKIE, process.execPath, checkFixture('grpc.health')]);
    assert.equal(r.code, 1);
    assert.doesNotMatch(r.stdout, /\x1b\[/);
    assert.match(r.stdout, /\n {2}FAIL {2}grpc\.health {14}grpc\.health\.v1 Check\("plugin"\) answers SERVING\n {8}Check\("plugin"\) = NOT_SERVING in \d+ ms\n {8}fix: /);
    assert.match(r.stdout, /\n\d+ pass, 1 fail, 0 warn, 2 n\/a: FAILED \(exit 1\)\n$/);
  });
});
