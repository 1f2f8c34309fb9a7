/**
 * The error model: each code is owned by one class (the catalog says which), errors are immutable and
 * built complete, and docs/errors.md lists every code with its class and meaning.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import {
  BrokerError,
  ConfigError,
  ERROR_CODES,
  HandshakeError,
  LoopError,
  LooppError,
  PluginError,
  StartError,
  isLooppError,
  type LooppErrorCode,
} from '../../src/core/errors';
import { ServiceError } from '../../src/loop/plugin/base';
import { YamuxError } from '../../src/net/yamux/errors';
import { errorCodeBlocks, replaceBlocks } from '../bench/render';

const ROOT = path.resolve(__dirname, '..', '..', '..');

/** An error of `code`, built by the class the catalog names. */
function build(code: LooppErrorCode): LooppError {
  const o = { hint: 'h', input: 'i' };
  switch (ERROR_CODES[code].class) {
    case 'ConfigError':
      return new ConfigError(code as never, 'm', o);
    case 'HandshakeError':
      return new HandshakeError(code as never, 'm', o);
    case 'StartError':
      return new StartError(code as never, 'm', o);
    case 'PluginError':
      return new PluginError(code as never, 'm', o);
    case 'BrokerError':
      return new BrokerError(code as never, 'm', o);
    case 'LoopError':
      return new LoopError(code as never, 'm', o);
    case 'YamuxError':
      return new YamuxError('timeout', 'm', o);
    case 'ServiceError':
      return new ServiceError([new Error('a'), new Error('b')], { hint: 'h' });
  }
}

describe('errors', () => {
  it('every code is built by the class the catalog names, and keeps its code', () => {
    for (const code of Object.keys(ERROR_CODES) as LooppErrorCode[]) {
      const err = build(code);
      assert.equal(err.code, code);
      assert.equal(err.name, ERROR_CODES[code].class, code);
      assert.ok(err instanceof LooppError && isLooppError(err));
      assert.ok(ERROR_CODES[code].meaning.endsWith('.'), `${code}: one sentence`);
    }
  });

  it('withStderrTail returns a new, complete error; the original is untouched', () => {
    const cause = new Error('c');
    const h = new HandshakeError('ERR_LOOPP_APP_VERSION', 'bad', { line: 'l', hint: 'h', cause });
    const h2 = h.withStderrTail('tail');
    assert.notEqual(h2, h);
    assert.deepEqual([h2.code, h2.message, h2.line, h2.input, h2.hint, h2.cause, h2.stderrTail], ['ERR_LOOPP_APP_VERSION', 'bad', 'l', 'l', 'h', cause, 'tail']);
    assert.equal(h.stderrTail, '');
    const s = new StartError('ERR_LOOPP_EXITED_BEFORE_HANDSHAKE', 'gone', { exitCode: 3, signal: null, input: { exitCode: 3 } });
    const s2 = s.withStderrTail('t');
    assert.deepEqual([s2.code, s2.message, s2.exitCode, s2.signal, s2.input, s2.stderrTail], ['ERR_LOOPP_EXITED_BEFORE_HANDSHAKE', 'gone', 3, null, { exitCode: 3 }, 't']);
    assert.ok(s2 instanceof StartError);
  });

  it('a LooppError of another copy of the package is still a LooppError (brand check)', () => {
    const foreign = Object.assign(Object.create(Object.getPrototypeOf(new ConfigError('ERR_LOOPP_CONFIG', 'x'))), {});
    assert.ok(foreign instanceof LooppError);
    assert.equal({ code: 'ERR_LOOPP_CONFIG' } instanceof LooppError, false);
  });

  it('docs/errors.md lists every code with its class and meaning (node scripts/refresh-docs.js errors)', () => {
    const doc = fs.readFileSync(path.join(ROOT, 'docs', 'errors.md'), 'utf8');
    const { text, replaced } = replaceBlocks(doc, 'errors', errorCodeBlocks(ERROR_CODES));
    assert.deepEqual(replaced, ['codes']);
    assert.equal(text, doc, 'docs/errors.md is out of date: run node scripts/refresh-docs.js errors');
    for (const [code, e] of Object.entries(ERROR_CODES)) assert.ok(doc.includes(`| \`${code}\` | \`${e.class}\` |`), code);
  });
});
