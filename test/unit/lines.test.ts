import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createFirstLineReader, createLineSplitter, goTrimSpace, type LineInfo } from '../../src/core/lines';
import { createStderrParser } from '../../src/wire/hclog';

interface Piece {
  line: string;
  fragment: boolean;
  complete: boolean;
  bytes: Buffer;
}

/** Splits `input` fed as chunks of `chunkSize` bytes (all at once when omitted). */
function split(maxLineBytes: number, input: Buffer | string, chunkSize?: number, end = true): Piece[] {
  const data = typeof input === 'string' ? Buffer.from(input, 'utf8') : input;
  const out: Piece[] = [];
  const splitter = createLineSplitter({
    maxLineBytes,
    onLine: (line: string, info: LineInfo) => out.push({ line, ...info, bytes: Buffer.from(info.bytes) }),
  });
  const step = chunkSize ?? Math.max(1, data.length);
  for (let i = 0; i < data.length; i += step) splitter.push(data.subarray(i, i + step));
  if (end) splitter.end();
  return out;
}

/** What go-plugin copies to ClientConfig.Stderr: every piece, plus '\n' when the piece completes a line. */
function rawCopy(pieces: readonly Piece[]): Buffer {
  return Buffer.concat(pieces.flatMap((p) => (p.complete ? [p.bytes, Buffer.from('\n')] : [p.bytes])));
}

const summary = (pieces: readonly Piece[]) => pieces.map((p) => [p.line, p.fragment, p.complete]);

describe('createLineSplitter', () => {
  it('splits on \\n and strips it', () => {
    assert.deepEqual(summary(split(64, 'one\ntwo\n\nthree\n')), [
      ['one', false, true],
      ['two', false, true],
      ['', false, true],
      ['three', false, true],
    ]);
  });

  it('strips one \\r before \\n (CRLF), keeps other \\r', () => {
    assert.deepEqual(summary(split(64, 'a\r\nb\r\r\nc\rd\n')), [
      ['a', false, true],
      ['b\r', false, true],
      ['c\rd', false, true],
    ]);
  });

  it('flushes a final line without newline on end(), keeping a trailing \\r as ReadLine does', () => {
    assert.deepEqual(summary(split(64, 'first\nlast')), [
      ['first', false, true],
      ['last', false, true],
    ]);
    assert.deepEqual(summary(split(64, 'x\r')), [['x\r', false, true]]);
    assert.deepEqual(summary(split(64, 'tail', undefined, false)), [], 'nothing before end()');
    assert.deepEqual(summary(split(64, '')), []);
  });

  it('end() is idempotent and push() after end() is ignored', () => {
    const lines: string[] = [];
    const s = createLineSplitter({ maxLineBytes: 64, onLine: (l) => lines.push(l) });
    s.push(Buffer.from('abc'));
    s.end();
    s.end();
    s.push(Buffer.from('more\n'));
    assert.deepEqual(lines, ['abc']);
  });

  it('a line of maxLineBytes-1 bytes plus \\n is whole; one more byte makes fragments (Go buffer semantics)', () => {
    const fits = 'x'.repeat(31);
    assert.deepEqual(summary(split(32, `${fits}\n`)), [[fits, false, true]]);
    const long = 'y'.repeat(32);
    assert.deepEqual(summary(split(32, `${long}\n`)), [
      [long, true, false],
      ['', true, true],
    ]);
  });

  it('emits fragments of exactly maxLineBytes and a final part', () => {
    const line = 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ!?'; // 64 bytes
    assert.deepEqual(summary(split(16, `${line}+\nnext\n`)), [
      [line.slice(0, 16), true, false],
      [line.slice(16, 32), true, false],
      [line.slice(32, 48), true, false],
      [line.slice(48, 64), true, false],
      ['+', true, true],
      ['next', false, true],
    ]);
  });

  it('holds back a \\r at a fragment boundary so a straddling \\r\\n is still a line end', () => {
    const head = 'h'.repeat(15);
    // 15 bytes + '\r' fill the 16-byte buffer exactly; the '\r' is put back and pairs with the '\n'.
    assert.deepEqual(summary(split(16, `${head}\r\nok\n`)), [
      [head, true, false],
      ['', true, true],
      ['ok', false, true],
    ]);
    // The same with the '\r' and '\n' in different chunks.
    assert.deepEqual(summary(split(16, `${head}\r\nok\n`, 1)), summary(split(16, `${head}\r\nok\n`)));
    // A held-back '\r' not followed by '\n' starts the next fragment.
    assert.deepEqual(summary(split(16, `${head}\rtail\n`)), [
      [head, true, false],
      ['\rtail', true, true],
    ]);
  });

  it('an over-long line ending exactly at a fragment boundary at EOF gets no final piece (as Go)', () => {
    const line = 'z'.repeat(32);
    const pieces = split(16, line);
    assert.deepEqual(summary(pieces), [
      [line.slice(0, 16), true, false],
      [line.slice(16), true, false],
    ]);
    assert.equal(rawCopy(pieces).toString(), line);
  });

  it('raises buffers below 16 bytes to 16, like bufio.NewReaderSize', () => {
    assert.deepEqual(summary(split(4, `${'q'.repeat(20)}\n`)), [
      ['q'.repeat(16), true, false],
      ['qqqq', true, true],
    ]);
    assert.throws(() => createLineSplitter({ maxLineBytes: Number.NaN, onLine: () => {} }), TypeError);
  });

  it('go-plugin TestClient_logStderr: 32-byte buffer, the raw copy is byte-identical', () => {
    const input = [
      '',
      'this sentence is comfortably longer than thirty-two bytes',
      'and so is this one, which goes on for quite a while longer',
      '{"k": "v", "@level": "debug"}',
      'short line',
      '',
    ].join('\n');
    for (const chunk of [undefined, 1, 3, 7, 32, 33]) {
      const pieces = split(32, input, chunk);
      assert.equal(rawCopy(pieces).toString('utf8'), input, `chunk size ${chunk}`);
      assert.ok(pieces.every((p) => p.bytes.length <= 32));
      // Re-joining the fragments of each line gives back the line.
      const lines: string[] = [];
      let current = '';
      for (const p of pieces) {
        current += p.line;
        if (p.complete) {
          lines.push(current);
          current = '';
        }
      }
      assert.deepEqual(lines, input.split('\n').slice(0, -1));
    }
  });

  it('go-plugin TestClient_logStderrParseJSON: 64-byte buffer, short JSON is info, long JSON is two debug fragments', () => {
    const short = '{"@message": "a short message", "@level": "info"}';
    const long = '{"@message": "a message that does not fit in a sixty-four byte buffer", "@level": "info"}';
    const parser = createStderrParser();
    const logged: [string, string][] = [];
    const s = createLineSplitter({
      maxLineBytes: 64,
      onLine: (line, info) => {
        const parsed = parser.parseLine(line, { fragment: info.fragment });
        logged.push([parsed.level, parsed.kind === 'json' ? parsed.message : parsed.raw]);
      },
    });
    s.push(Buffer.from(`${short}\n${long}`));
    s.end();
    assert.deepEqual(logged, [
      ['info', 'a short message'],
      ['debug', long.slice(0, 64)],
      ['debug', long.slice(64)],
    ]);
  });

  it('decodes multi-byte UTF-8 split across chunks without corruption', () => {
    const text = 'héllo wörld – 日本語 – 🎉🎉\nsecond ✓ line\n';
    const expected = [
      ['héllo wörld – 日本語 – 🎉🎉', false, true],
      ['second ✓ line', false, true],
    ];
    for (const chunk of [1, 2, 3, 5]) assert.deepEqual(summary(split(256, text, chunk)), expected, `chunk ${chunk}`);
  });

  it('cuts fragments at byte boundaries but keeps their joined text intact', () => {
    const line = '🎉'.repeat(10) + 'é'.repeat(10); // 60 bytes; 16-byte fragments cut inside characters
    const pieces = split(16, `${line}\n`, 7);
    assert.ok(pieces.length > 1);
    assert.ok(pieces.slice(0, -1).every((p) => p.bytes.length === 16 && p.fragment && !p.complete));
    assert.equal(pieces.map((p) => p.line).join(''), line);
    assert.ok(!pieces.some((p) => p.line.includes('\ufffd')));
    assert.equal(rawCopy(pieces).toString('utf8'), `${line}\n`);
  });

  it('keeps memory bounded: the buffered remainder never reaches maxLineBytes', () => {
    let count = 0;
    const s = createLineSplitter({ maxLineBytes: 64, onLine: (_l, info) => { count++; assert.ok(info.bytes.length <= 64); } });
    const big = Buffer.alloc(1_000_000, 0x61);
    s.push(big);
    s.push(Buffer.from('\n'));
    s.end();
    assert.equal(count, Math.ceil(1_000_000 / 64) + 1);
  });

  it('finishes the chunk and then rethrows when onLine throws', () => {
    const seen: string[] = [];
    const s = createLineSplitter({
      maxLineBytes: 64,
      onLine: (l) => {
        seen.push(l);
        if (l === 'bad') throw new Error('boom');
      },
    });
    assert.throws(() => s.push(Buffer.from('bad\ngood\n')), /boom/);
    assert.deepEqual(seen, ['bad', 'good']);
    s.push(Buffer.from('after\n'));
    assert.deepEqual(seen, ['bad', 'good', 'after']);
  });

  it('accepts a plain Uint8Array', () => {
    assert.deepEqual(summary(split(64, new Uint8Array(Buffer.from('u8\n')) as Buffer)), [['u8', false, true]]);
  });
});

describe('createFirstLineReader', () => {
  const handshake = '1|1|tcp|127.0.0.1:1234|grpc';

  it('returns the first line, trimmed, and the rest of the chunk', () => {
    const r = createFirstLineReader(65536);
    const res = r.push(Buffer.from(`  ${handshake}\r\nmore output\n`));
    assert.equal(res.line, handshake);
    assert.equal(res.raw, `  ${handshake}`);
    assert.equal(res.rest?.toString(), 'more output\n');
    assert.equal(res.overflow, undefined);
    assert.equal(r.done, true);
    assert.deepEqual(r.push(Buffer.from('ignored\n')), {});
    assert.deepEqual(r.end(), {});
  });

  it('assembles a line from many chunks; no rest when the chunk ends at the newline', () => {
    const r = createFirstLineReader(65536);
    const data = Buffer.from(`${handshake}\n`);
    for (let i = 0; i < data.length - 1; i++) assert.deepEqual(r.push(data.subarray(i, i + 1)), {});
    assert.deepEqual(r.push(data.subarray(data.length - 1)), { line: handshake, raw: handshake });
  });

  it('an empty first line is a line (Go fails on it as "Unrecognized remote plugin message")', () => {
    assert.deepEqual(createFirstLineReader(100).push(Buffer.from('\n1|1|tcp|x|grpc\n')).line, '');
  });

  it('reports overflow when maxBytes arrive without a newline (line plus \\n must fit)', () => {
    const ok = createFirstLineReader(10);
    assert.equal(ok.push(Buffer.from('123456789\n')).line, '123456789');
    const over = createFirstLineReader(10);
    assert.deepEqual(over.push(Buffer.from('12345')), {});
    assert.deepEqual(over.push(Buffer.from('67890')), { overflow: true });
    assert.equal(over.done, true);
    assert.deepEqual(over.end(), {});
    const overLater = createFirstLineReader(10);
    assert.deepEqual(overLater.push(Buffer.from('1234567890\n')), { overflow: true });
  });

  it('end() returns unterminated data as the line, or nothing when no bytes came', () => {
    const r = createFirstLineReader(100);
    r.push(Buffer.from('1|1|unix|/tmp/s|grpc\r'));
    assert.deepEqual(r.end(), { line: '1|1|unix|/tmp/s|grpc', raw: '1|1|unix|/tmp/s|grpc' });
    assert.deepEqual(createFirstLineReader(100).end(), {});
  });

  it('decodes UTF-8 split across chunks', () => {
    const r = createFirstLineReader(100);
    const data = Buffer.from('plugin ✓ ready\n');
    let res = {};
    for (let i = 0; i < data.length; i++) res = r.push(data.subarray(i, i + 1));
    assert.deepEqual(res, { line: 'plugin ✓ ready', raw: 'plugin ✓ ready' });
  });
});

describe('goTrimSpace', () => {
  it('trims what Go trims', () => {
    assert.equal(goTrimSpace(' \t\v\f\r\n x y \u0085\u00a0\u2003\u3000'), 'x y');
    assert.equal(goTrimSpace('\ufeffx'), '\ufeffx', 'U+FEFF is not a Go space');
    assert.equal(goTrimSpace(''), '');
    assert.equal(goTrimSpace('   '), '');
    const s = 'abc';
    assert.equal(goTrimSpace(s), s);
  });

  it('is linear on long whitespace runs', () => {
    const s = ' '.repeat(200_000) + 'x' + ' '.repeat(200_000);
    const t0 = Date.now();
    assert.equal(goTrimSpace(s), 'x');
    assert.ok(Date.now() - t0 < 1000);
  });
});
