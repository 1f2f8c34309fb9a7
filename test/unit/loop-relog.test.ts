import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { logEntryOf, type PluginLogEntry } from '../../src/host/stderr';
import { createStderrParser } from '../../src/wire/hclog';
import { LOOP_KINDS } from '../../src/loop/wire/handshakes';
import { classifyLoopLog, createLoopRelogger } from '../../src/loop/host/relog';

/** Runs lines through the host's stderr parser, as startPlugin's onLog would deliver them. */
function entries(lines: string[]): PluginLogEntry[] {
  const parser = createStderrParser();
  return lines.map((raw) => logEntryOf(parser.parseLine(raw)));
}

const ts = '2026-11-28T07:37:56.110107Z';

describe('classifyLoopLog', () => {
  it('keeps hclog levels, names the sub-logger from `logger`', () => {
    const [e] = entries([`{"@level":"info","@timestamp":"${ts}","logger":"PluginMedian.X","caller":"a.go:1","@message":"hi","k":"v"}`]);
    const r = classifyLoopLog(e as PluginLogEntry);
    assert.deepEqual(r, { level: 'info', message: 'hi', logger: 'PluginMedian.X', fields: { caller: 'a.go:1', k: 'v' } });
  });
  it('raises zap fatal to critical as [FATAL]', () => {
    const [e] = entries([`{"@level":"fatal","@timestamp":"${ts}","@message":"some panic log","x":1}`]);
    const r = classifyLoopLog(e as PluginLogEntry);
    assert.equal(r.level, 'critical');
    assert.equal(r.message, '[FATAL] some panic log');
    assert.deepEqual(r.fields, { x: 1 });
  });
  it('keeps dpanic / critical / panic JSON lines at critical with their message', () => {
    for (const level of ['dpanic', 'critical', 'panic']) {
      const [e] = entries([`{"@level":"${level}","@timestamp":"${ts}","@message":"bad"}`]);
      const r = classifyLoopLog(e as PluginLogEntry);
      assert.equal(r.level, 'critical', level);
      assert.equal(r.message, 'bad');
    }
  });
  it('turns a Go panic into [PANIC] at critical and its stack into error lines', () => {
    const es = entries(['panic: random panic', '', 'goroutine 12 [running]:', 'main.main()']);
    const rs = es.map(classifyLoopLog);
    assert.deepEqual(rs[0], { level: 'critical', message: '[PANIC] panic: random panic', logger: undefined, fields: {} });
    for (const r of rs.slice(1)) assert.equal(r.level, 'error');
  });
  it('leaves other text at its inferred level', () => {
    const [a, b] = entries(['[WARN] careful', 'plain text']).map((e) => classifyLoopLog(e));
    assert.equal(a?.level, 'warn');
    assert.equal(b?.level, 'debug');
  });
});

describe('createLoopRelogger', () => {
  it('calls the logger method of the level, critical falling back to error', () => {
    const calls: string[] = [];
    const logger = {
      debug: (m: string) => calls.push(`debug ${m}`),
      info: (m: string) => calls.push(`info ${m}`),
      warn: (m: string) => calls.push(`warn ${m}`),
      error: (m: string) => calls.push(`error ${m}`),
    };
    const relog = createLoopRelogger(logger);
    for (const e of entries([`{"@level":"warn","@timestamp":"${ts}","@message":"w"}`, 'panic: p'])) relog(e);
    assert.deepEqual(calls, ['warn w', 'error [PANIC] panic: p']);
  });
});

describe('LOOP handshakes', () => {
  it('use app protocol 0 and the exact cookies', () => {
    assert.deepEqual(LOOP_KINDS.relayer, {
      handshake: { protocolVersion: 0, magicCookieKey: 'CL_PLUGIN_RELAYER_MAGIC_COOKIE', magicCookieValue: 'dae753d4542311b33cf041b930db0150647e806175c2818a0c88a9ab745e45aa' },
      pluginName: 'relayer',
    });
    assert.equal(LOOP_KINDS.median.handshake.magicCookieValue, 'b12a697e19748cd695dd1690c09745ee7cc03717179958e8eadd5a7ca4646728');
    assert.equal(LOOP_KINDS.ccipCommit.handshake.magicCookieValue, LOOP_KINDS.ccipExecution.handshake.magicCookieValue);
    for (const k of Object.values(LOOP_KINDS)) assert.equal(k.handshake.protocolVersion, 0);
  });
});
