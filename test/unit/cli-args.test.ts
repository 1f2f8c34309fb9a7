/**
 * The `loopp` command line: options stop at the plugin's command (its own flags are never ours),
 * values and lists, --no-<flag>, and mistakes as UsageErrors that say what to do; main() dispatches,
 * prints help with exit 0 and an unknown command with exit 2.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { durationMs, HelpRequested, keyValue, parseArgs, UsageError, type OptionSpec } from '../../src/cli/args';
import { main } from '../../src/cli/main';
import type { Command } from '../../src/cli/command';
import { EXIT } from '../../src/cli/exit-codes';

const SPECS: OptionSpec[] = [
  { name: 'env', kind: 'list', arg: 'KEY=VALUE', help: 'env' },
  { name: 'timeout', kind: 'value', arg: '<duration>', help: 't' },
  { name: 'automtls', kind: 'flag', help: 'a' },
  { name: 'out', short: 'o', kind: 'value', arg: '<file>', help: 'o' },
];

describe('loopp command line', () => {
  it('stops at the plugin command and leaves its arguments alone', () => {
    const a = parseArgs(['--env', 'A=1', '--env=B=2', '--no-automtls', '--timeout', '5s', './plugin', '--env', 'x', '-v'], SPECS);
    assert.deepEqual(a.options.get('env'), ['A=1', 'B=2']);
    assert.equal(a.options.get('automtls'), false);
    assert.equal(a.options.get('timeout'), '5s');
    assert.deepEqual(a.rest, ['./plugin', '--env', 'x', '-v']);
    assert.deepEqual(parseArgs(['-o', 'f', '--', '--plugin-starting-with-dashes'], SPECS).rest, ['--plugin-starting-with-dashes']);
    const mixed = parseArgs(['entry.js', '-o', 'out', 'more', '--env', 'A=1'], SPECS, { interspersed: true });
    assert.deepEqual([mixed.rest, mixed.options.get('out'), mixed.options.get('env')], [['entry.js', 'more'], 'out', ['A=1']]);
    assert.throws(() => parseArgs(['entry.js', '--help'], SPECS, { interspersed: true }), HelpRequested);
  });

  it('names the mistake', () => {
    assert.throws(() => parseArgs(['--nope', 'p'], SPECS), (e) => e instanceof UsageError && /unknown option --nope/.test(e.message));
    assert.throws(() => parseArgs(['--timeout'], SPECS), (e) => e instanceof UsageError && /--timeout needs a value \(<duration>\)/.test(e.message));
    assert.throws(() => parseArgs(['--automtls=yes'], SPECS), (e) => e instanceof UsageError && /takes no value/.test(e.message));
    assert.throws(() => keyValue('env', '=x'), /expected KEY=VALUE/);
    assert.deepEqual(keyValue('env', 'A=b=c'), ['A', 'b=c']);
    assert.equal(durationMs('timeout', '2m'), 120_000);
    assert.equal(durationMs('timeout', '1.5s'), 1500);
    assert.equal(durationMs('timeout', '250'), 250);
    assert.throws(() => durationMs('timeout', '0s'), /more than 0/);
    assert.throws(() => durationMs('timeout', '5h'), /expected a duration/);
  });

  it('dispatches, prints help and refuses an unknown command', async () => {
    const io = () => {
      const out = new PassThrough(), err = new PassThrough();
      let o = '', e = '';
      out.on('data', (d) => (o += d));
      err.on('data', (d) => (e += d));
      return { io: { stdout: out, stderr: err, env: {}, signal: new AbortController().signal }, text: () => ({ o, e }) };
    };
    const seen: string[][] = [];
    const echo: Command = { name: 'echo', summary: 'says it back', help: 'Usage: loopp echo', run: async (argv) => (seen.push([...parseArgs(argv, SPECS).rest]), EXIT.ok) };
    const a = io();
    assert.equal(await main(['--help'], a.io, [echo]), EXIT.ok);
    assert.match(a.text().o, /  echo {2}says it back/);
    assert.match(a.text().o, /130 {2}interrupted/);
    const b = io();
    assert.equal(await main(['echo', '--help'], b.io, [echo]), EXIT.ok);
    assert.equal(b.text().o, 'Usage: loopp echo\n');
    // After an option's value too (it has no dash); after the plugin's command it is the plugin's.
    const b2 = io();
    assert.equal(await main(['echo', '--env', 'K=V', '-h'], b2.io, [echo]), EXIT.ok);
    assert.equal(b2.text().o, 'Usage: loopp echo\n');
    assert.equal(await main(['echo', './p', '--help'], io().io, [echo]), EXIT.ok);
    assert.deepEqual(seen, [['./p', '--help']]);
    const c = io();
    assert.equal(await main(['ehco'], c.io, [echo]), EXIT.usage);
    assert.match(c.text().e, /unknown command "ehco"; the commands are echo/);
    const d = io();
    const boom: Command = { ...echo, run: async () => { throw new UsageError('--x is wrong'); } };
    assert.equal(await main(['echo', 'p'], d.io, [boom]), EXIT.usage);
    assert.equal(d.text().e, 'loopp echo: --x is wrong\n');
  });
});
