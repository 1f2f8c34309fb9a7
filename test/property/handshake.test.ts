/**
 * Property tests: the handshake line (parseHandshakeLine, decodeHandshakeCert) and the two byte-stream
 * readers in front of it (createFirstLineReader for stdout, createLineSplitter for stderr).
 * Seed / runs / replay: see fc-config.ts.
 */
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { CORE_PROTOCOL_VERSION, MAX_HANDSHAKE_LINE_BYTES } from '../../src/core/constants';
import { HandshakeError, type LooppErrorCode } from '../../src/core/errors';
import { formatHandshakeLine, parseHandshakeLine, type Handshake, type Network } from '../../src/wire/handshake';
import { goAtoi } from '../../src/core/go/strconv';
import { createFirstLineReader, createLineSplitter, type FirstLineResult, type LineInfo } from '../../src/core/lines';
import { decodeHandshakeCert, encodeHandshakeCert, generateCertificate } from '../../src/net/mtls/cert';
import { readChildren, readTlv } from '../../src/net/mtls/der';
import { PROPERTY_CERTS_BASE64 } from './certs';
import {
  CHECK_COVERAGE,
  RUNS,
  assertNoGrowth,
  check,
  chunked,
  cutsArb,
  forceGc,
  invalidUtf8,
  nastyString,
  spliceBytes,
  typed,
} from './fc-config';

const HANDSHAKE_CODES: readonly LooppErrorCode[] = [
  'ERR_LOOPP_HANDSHAKE_MALFORMED',
  'ERR_LOOPP_CORE_VERSION',
  'ERR_LOOPP_APP_VERSION',
  'ERR_LOOPP_ADDRESS',
  'ERR_LOOPP_PROTOCOL',
  'ERR_LOOPP_SERVER_CERT',
  'ERR_LOOPP_MUX_UNSUPPORTED',
];

// Real AutoMTLS certificates (as a plugin would send). Fixed ones, so a seed replays exactly; plus a check
// that a fresh one has the same shape, so the fixed ones cannot drift from what generateCertificate makes.
const CERTS: readonly Buffer[] = PROPERTY_CERTS_BASE64.map((b) => Buffer.from(b, 'base64'));
const MIB = 1024 * 1024;
// 1 MiB fields, built once; the properties reuse them (flattening a 1 MiB string per case is the cost).
const HUGE_FIELDS: readonly string[] = ['7'.repeat(MIB), 'A'.repeat(MIB), encodeHandshakeCert(Buffer.alloc(MIB * 0.75, 0x30)), '/'.repeat(MIB - 1) + 'x'];

interface Spec {
  appVersion: number;
  network: Network;
  address: string;
  cert: Buffer | undefined;
  mux: boolean | undefined;
  muxRequested: boolean;
  hostVersions: number[];
}

const unixPath = fc
  .array(fc.oneof(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 12 }), fc.constantFrom('tmp', 'plugin', 'sock', ' ', '..')), { minLength: 1, maxLength: 5 })
  .map((parts) => '/' + parts.join('/').replace(/\|/g, '_'));
const tcpAddr = fc
  .tuple(fc.oneof(fc.constantFrom('127.0.0.1', '', 'localhost', '[::1]', '0.0.0.0', '[fe80::1%eth0]'), fc.ipV4(), fc.ipV6().map((h) => `[${h}]`)), fc.integer({ min: 0, max: 65535 }))
  .map(([h, p]) => `${h}:${p}`)
  .filter((a) => /^(\[[0-9A-Fa-f:.]+\]|[^:[\]]*):([0-9]{1,5})$/.test(a));

const specArb: fc.Arbitrary<Spec> = fc
  .record({
    appVersion: fc.oneof(fc.integer({ min: 0, max: 9 }), fc.integer({ min: -1000, max: 1_000_000 }), fc.integer({ min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER })),
    network: fc.constantFrom<Network>('unix', 'tcp'),
    unix: unixPath,
    tcp: tcpAddr,
    cert: fc.option(fc.constantFrom(...CERTS), { nil: undefined }),
    mux: fc.option(fc.boolean(), { nil: undefined }),
    others: fc.uniqueArray(fc.integer({ min: -3, max: 50 }), { maxLength: 4 }),
  })
  .map((r) => ({
    appVersion: r.appVersion,
    network: r.network,
    address: r.network === 'unix' ? r.unix : r.tcp,
    cert: r.cert,
    mux: r.mux,
    muxRequested: r.mux === true,
    hostVersions: [...new Set([...r.others, r.appVersion])],
  }));

function lineOf(s: Spec): string {
  return formatHandshakeLine({
    appVersion: s.appVersion,
    network: s.network,
    address: s.address,
    serverCert: s.cert === undefined ? undefined : encodeHandshakeCert(s.cert),
    muxSupported: s.mux,
  });
}

/** parseHandshakeLine under the contract; a parsed line must be well formed and stable under re-formatting. */
function parseChecked(raw: string, s: Pick<Spec, 'hostVersions' | 'muxRequested'>): Handshake<Buffer> | HandshakeError {
  // As a host parses: field 6 decoded by net/mtls, in Go's order.
  const opts = { hostVersions: s.hostVersions, muxRequested: s.muxRequested, decodeServerCert: decodeHandshakeCert };
  const r = typed(() => parseHandshakeLine(raw, opts), {
    codes: HANDSHAKE_CODES,
    error: (err) => {
      assert.ok(err instanceof HandshakeError, `${err.name} is not a HandshakeError`);
      assert.equal(err.line, raw.trim(), 'the error carries the (trimmed) line');
      assert.equal(err.stderrTail, '');
    },
  });
  if (!r.ok) return r.error as HandshakeError;
  const h = r.value;
  assert.equal(h.coreVersion, CORE_PROTOCOL_VERSION);
  assert.ok(s.hostVersions.includes(h.appVersion));
  assert.ok(h.network === 'unix' || h.network === 'tcp');
  assert.equal(h.protocol, 'grpc');
  assert.ok(h.address.length > 0 && !h.address.includes('|'));
  if (s.muxRequested) assert.equal(h.muxSupported, true);
  const again = parseHandshakeLine(
    lineOf({ ...h, cert: h.serverCert, mux: h.muxSupported, hostVersions: s.hostVersions, muxRequested: s.muxRequested }),
    opts,
  );
  assert.deepEqual(again, h, 'format(parse(line)) parses to the same handshake');
  return h;
}

/** Independent of decodeHandshakeCert: base64 (padded or not) of bytes node:crypto takes as a certificate. */
function isX509Base64(text: string): boolean {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.replace(/=+$/, '').length % 4 === 1) return false;
  try {
    new X509Certificate(Buffer.from(text, 'base64'));
    return true;
  } catch {
    return false;
  }
}

// ---- mutations of a valid line --------------------------------------------------------------------

const versionLike = fc.constantFrom(
  '', '0', '2', '+1', '-1', '01', ' 1', '1 ', '1.0', '1e0', '0x1', '1_0', '\u0661', '１',
  '9223372036854775807', '9223372036854775808', '-9223372036854775808', '-9223372036854775809',
  '99999999999999999999999999', '99999999999999999999x', 'NaN', 'Infinity', 'true',
);

/** Field 6 variants that are not a usable certificate (or are one in another spelling). */
const certLike = fc.oneof(
  // bad base64: a character outside the standard alphabet, url-safe alphabet, misplaced or wrong padding, length % 4 == 1
  fc.tuple(fc.constantFrom(...CERTS), fc.nat(), fc.constantFrom('!', '-', '_', '=', ' ', '\u00e9', '.', '*')).map(([c, at, ch]) => {
    const b = encodeHandshakeCert(c);
    const i = at % b.length;
    return b.slice(0, i) + ch + b.slice(i + 1);
  }),
  fc.constantFrom(...CERTS).map((c) => encodeHandshakeCert(c) + 'A'),
  fc.constantFrom(...CERTS).map((c) => c.toString('base64') + '=='),
  fc.constantFrom(...CERTS).map((c) => c.toString('base64')), // padded: accepted
  // base64 of bad DER: random bytes, truncated / extended / bit-flipped certificates
  fc.uint8Array({ minLength: 38, maxLength: 600 }).map((b) => encodeHandshakeCert(Buffer.from(b))),
  fc.tuple(fc.constantFrom(...CERTS), fc.nat()).map(([c, n]) => encodeHandshakeCert(c.subarray(0, 38 + (n % (c.length - 38))))),
  fc.tuple(fc.constantFrom(...CERTS), fc.uint8Array({ minLength: 1, maxLength: 8 })).map(([c, extra]) => encodeHandshakeCert(Buffer.concat([c, extra]))),
  fc.tuple(fc.constantFrom(...CERTS), fc.nat(), fc.integer({ min: 1, max: 255 })).map(([c, at, x]) => {
    const b = Buffer.from(c);
    const i = at % b.length;
    b[i] = (b[i] as number) ^ x;
    return encodeHandshakeCert(b);
  }),
  // the pre-1.0 48-character JSON blob hosts must ignore, and a 51-character one they must not
  fc.constantFrom('eyJLZXkiOiJhIiwiVmFsdWUiOiJiIiwiVmVyc2lvbiI6MX0K', 'eyJLZXkiOiJhIiwiVmFsdWUiOiJiIiwiVmVyc2lvbiI6MX0KAAA'),
);

const fieldValue = fc.oneof(
  { weight: 40, arbitrary: nastyString(16) },
  { weight: 30, arbitrary: versionLike },
  { weight: 30, arbitrary: certLike },
  { weight: 20, arbitrary: fc.constantFrom('unix', 'tcp', 'udp', 'UNIX', 'grpc', 'netrpc', 'GRPC', 'true', 'false', 'True', '1', 'maybe', '') },
  // ~1% of field values: enough for a few hundred 1 MiB cases per run, each costing milliseconds
  { weight: 1, arbitrary: fc.constantFrom(...HUGE_FIELDS) },
);

const eolVariant = fc.constantFrom('\n', '\r\n', '\r', ' ', '\t', '\r\r\n', '\n\n', ' \r\n', '\u00a0', '\ufeff', '\u0085', '\0', '');

type Mutation =
  | { op: 'drop'; at: number }
  | { op: 'insert'; at: number; value: string }
  | { op: 'replace'; at: number; value: string }
  | { op: 'prefix'; text: string }
  | { op: 'suffix'; text: string }
  | { op: 'utf8'; at: number; bytes: Buffer }
  | { op: 'truncate'; at: number };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: fc.constant('drop' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('insert' as const), at: fc.nat(), value: fieldValue }),
  { weight: 4, arbitrary: fc.record({ op: fc.constant('replace' as const), at: fc.nat(), value: fieldValue }) },
  fc.record({ op: fc.constant('prefix' as const), text: eolVariant }),
  { weight: 2, arbitrary: fc.record({ op: fc.constant('suffix' as const), text: eolVariant }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('utf8' as const), at: fc.nat(), bytes: invalidUtf8 }) },
  fc.record({ op: fc.constant('truncate' as const), at: fc.nat() }),
);

function mutate(line: string, m: Mutation): string {
  const body = line.endsWith('\n') ? line.slice(0, -1) : line;
  const fields = body.split('|');
  switch (m.op) {
    case 'drop':
      fields.splice(m.at % fields.length, 1);
      return fields.join('|') + '\n';
    case 'insert':
      fields.splice(m.at % (fields.length + 1), 0, m.value);
      return fields.join('|') + '\n';
    case 'replace':
      fields[m.at % fields.length] = m.value;
      return fields.join('|') + '\n';
    case 'prefix':
      return m.text + line;
    case 'suffix':
      return body + m.text + '\n';
    case 'utf8':
      // The host decodes stdout bytes as UTF-8 (invalid sequences become U+FFFD), then parses the text.
      return spliceBytes(Buffer.from(line, 'utf8'), m.at, m.bytes).toString('utf8');
    case 'truncate':
      return line.slice(0, m.at % (line.length + 1));
  }
}

describe('property: handshake line', () => {
  it(`parses every formatHandshakeLine line back to what was formatted (${RUNS} cases)`, (t) => {
    check(
      t,
      fc.property(specArb, fc.constantFrom('', '\r', ' ', '\t \r'), (s, eol) => {
        const raw = lineOf(s).replace(/\n$/, eol + '\n');
        const h = parseChecked(raw, s);
        assert.ok(!(h instanceof HandshakeError), `valid line rejected: ${h instanceof HandshakeError ? h.message : ''}`);
        assert.deepEqual(h, {
          coreVersion: 1,
          appVersion: s.appVersion,
          network: s.network,
          address: s.address,
          protocol: 'grpc',
          serverCert: s.cert,
          muxSupported: s.mux,
        });
      }),
    );
  });

  it(`mutated lines (field counts, 1 MiB fields, bad versions, bad base64/DER, CR/LF, invalid UTF-8) parse or throw a typed HandshakeError (${RUNS} cases)`, (t) => {
    const seen = new Map<string, number>();
    check(
      t,
      fc.property(specArb, fc.array(mutation, { minLength: 1, maxLength: 3 }), (s, ms) => {
        const raw = ms.reduce(mutate, lineOf(s));
        const h = parseChecked(raw, s);
        const key = h instanceof HandshakeError ? h.code : 'ok';
        seen.set(key, (seen.get(key) ?? 0) + 1);
      }),
    );
    t.diagnostic(`outcomes: ${JSON.stringify(Object.fromEntries(seen))}`);
    // The mutations must reach every check, or the property tests less than it claims.
    if (CHECK_COVERAGE) for (const code of ['ok', ...HANDSHAKE_CODES]) assert.ok((seen.get(code) ?? 0) > 0, `no case reached ${code}`);
  });

  it(`arbitrary text parses or throws a typed HandshakeError (${RUNS} cases)`, (t) => {
    const host = { hostVersions: [1, 2], muxRequested: false };
    check(
      t,
      fc.property(
        fc.oneof(fc.string({ unit: 'binary', maxLength: 80 }), nastyString(40), fc.array(nastyString(6), { maxLength: 9 }).map((a) => a.join('|'))),
        fc.boolean(),
        (raw, muxRequested) => {
          parseChecked(raw, { ...host, muxRequested });
        },
      ),
    );
  });

  it(`one bad field gives the code of the check that field fails, in Go's order (${RUNS} cases)`, (t) => {
    // Field index -> the code a bad value there must produce when every earlier field is valid.
    const expected: Record<number, LooppErrorCode> = { 0: 'ERR_LOOPP_CORE_VERSION', 1: 'ERR_LOOPP_APP_VERSION', 2: 'ERR_LOOPP_ADDRESS', 4: 'ERR_LOOPP_PROTOCOL', 5: 'ERR_LOOPP_SERVER_CERT' };
    check(
      t,
      fc.property(specArb, fc.constantFrom(0, 1, 2, 4, 5), fc.oneof(versionLike, certLike, nastyString(8)), (s, at, value) => {
        const spec = { ...s, mux: undefined, muxRequested: false };
        const fields = lineOf(spec).slice(0, -1).split('|');
        if (value.includes('|') || value !== value.trim() || value === '') return;
        if (at === 0 && goAtoi(value).ok && goAtoi(value).ok && (goAtoi(value) as { value: number }).value === 1) return;
        if (at === 1 && goAtoi(value).ok && spec.hostVersions.includes((goAtoi(value) as { value: number }).value)) return;
        if (at === 2 && (value === 'unix' || value === 'tcp')) return;
        if (at === 4 && value === 'grpc') return;
        if (at === 5 && (value.length <= 50 || isX509Base64(value))) return;
        fields[at] = value;
        const h = parseChecked(fields.join('|') + '\n', spec);
        assert.ok(h instanceof HandshakeError, `accepted a bad field ${at}: ${JSON.stringify(value.slice(0, 80))}`);
        assert.equal(h.code, expected[at]);
      }),
    );
  });

  it(`decodeHandshakeCert: any text gives certificate DER or ERR_LOOPP_SERVER_CERT (${RUNS} cases)`, (t) => {
    check(
      t,
      fc.property(fc.oneof(certLike, fc.base64String({ maxLength: 200 }), nastyString(60)), (field) => {
        const r = typed(() => decodeHandshakeCert(field), { codes: ['ERR_LOOPP_SERVER_CERT'] });
        if (r.ok) {
          assert.ok(new X509Certificate(r.value).raw.equals(r.value));
          assert.ok(r.value.equals(Buffer.from(field, 'base64')));
          assert.ok(isX509Base64(field));
        } else {
          assert.match(r.error.message, /^error parsing server cert: /);
        }
      }),
    );
  });

  it('grows no memory over repeated mutated-line batches', async (t) => {
    const samples = fc.sample(fc.tuple(specArb, fc.array(mutation, { minLength: 1, maxLength: 3 })), { numRuns: 2000, seed: 7 });
    const lines = samples.map(([s, ms]) => [ms.reduce(mutate, lineOf(s)), s] as const);
    await assertNoGrowth(t, 'parseHandshakeLine', lines.length, () => {
      for (const [raw, s] of lines) parseChecked(raw, s);
    });
  });
});

/** Buffer memory still referenced (garbage collected first, so only what a reader keeps counts). */
function retainedBuffers(): number {
  forceGc();
  return process.memoryUsage().arrayBuffers;
}

// ---- stdout first line ------------------------------------------------------------------------------

/** What a FirstLineReader reports for `chunks`, with the bytes after the first line. */
function readFirstLine(max: number, chunks: readonly Buffer[], end: boolean): { result: FirstLineResult; after: Buffer } {
  const reader = createFirstLineReader(max);
  let result: FirstLineResult = {};
  const after: Buffer[] = [];
  for (const c of chunks) {
    if (reader.done) {
      assert.deepEqual(reader.push(c), {}, 'chunks after the first line are ignored');
      if (result.line !== undefined) after.push(c);
      continue;
    }
    result = reader.push(c);
    if (result.rest !== undefined) after.push(Buffer.from(result.rest));
  }
  if (end && !reader.done) result = reader.end();
  if (end) assert.equal(reader.done, true);
  const { rest: _rest, ...summary } = result;
  return { result: summary, after: Buffer.concat(after) };
}

const streamBytes = fc.oneof(
  fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b)),
  fc.array(fc.oneof(fc.constantFrom('\n', '\r', '\r\n', ' ', '|', 'é', '😀'), fc.string({ maxLength: 6 }), invalidUtf8.map((b) => b.toString('latin1'))), { maxLength: 40 }).map((a) =>
    Buffer.from(a.join(''), 'latin1'),
  ),
  specArb.map((s) => Buffer.from(lineOf(s) + 'more output\n')),
);

describe('property: stdout first-line reader', () => {
  it(`gives the same line, overflow and remainder however stdout is chunked (${RUNS} cases)`, (t) => {
    check(
      t,
      fc.property(streamBytes, cutsArb, fc.constantFrom(1, 2, 16, 64, MAX_HANDSHAKE_LINE_BYTES), fc.boolean(), (bytes, cuts, max, end) => {
        const whole = readFirstLine(max, [bytes], end);
        const parts = readFirstLine(max, chunked(bytes, cuts), end);
        assert.deepEqual(parts, whole);
        const lf = bytes.indexOf(0x0a);
        if (lf >= 0 && lf < max) {
          // the line is everything before the first \n (one \r dropped), trimmed; the rest is everything after it
          let body = bytes.subarray(0, lf);
          if (body[body.length - 1] === 0x0d) body = body.subarray(0, -1);
          assert.equal(whole.result.raw, body.toString('utf8'));
          assert.ok(whole.after.equals(bytes.subarray(lf + 1)));
        } else if (bytes.length >= max) {
          assert.deepEqual(whole.result, { overflow: true });
        }
      }),
    );
  });

  it('buffers at most its limit whatever arrives (10 MiB without a newline)', (t) => {
    const reader = createFirstLineReader(MAX_HANDSHAKE_LINE_BYTES);
    const block = Buffer.alloc(64 * 1024 + 17, 0x41);
    const base = retainedBuffers();
    let peak = 0;
    let overflowAt = -1;
    let fed = 0;
    for (let i = 0; fed < 10 * MIB; i++) {
      const piece = block.subarray(0, 1 + ((i * 7919) % block.length));
      const r = reader.push(piece);
      fed += piece.length;
      if (r.overflow === true && overflowAt < 0) overflowAt = fed;
      if (i % 64 === 0) peak = Math.max(peak, retainedBuffers() - base);
    }
    t.diagnostic(`fed ${fed} bytes; overflow after ${overflowAt}; peak Buffer growth ${peak} bytes`);
    assert.ok(overflowAt >= MAX_HANDSHAKE_LINE_BYTES && overflowAt < MAX_HANDSHAKE_LINE_BYTES + block.length);
    assert.ok(peak < 2 * MAX_HANDSHAKE_LINE_BYTES + block.length, `peak ${peak}`);
    assert.deepEqual(reader.end(), {});
  });
});

// ---- stderr line splitter ------------------------------------------------------------------------------

interface Piece {
  text: string;
  fragment: boolean;
  complete: boolean;
  bytes: string;
}

function splitAll(max: number, chunks: readonly Buffer[], end: boolean): Piece[] {
  const out: Piece[] = [];
  const splitter = createLineSplitter({
    maxLineBytes: max,
    onLine: (text: string, info: LineInfo) => out.push({ text, fragment: info.fragment, complete: info.complete, bytes: info.bytes.toString('hex') }),
  });
  for (const c of chunks) splitter.push(c);
  if (end) splitter.end();
  return out;
}

/** bufio.Reader.ReadLine with a buffer of `size` bytes, written from Go's description, not from lines.ts. */
function readLineModel(size: number, data: Buffer, end: boolean): Array<Omit<Piece, 'text'>> {
  const out: Array<Omit<Piece, 'text'>> = [];
  let cont = false;
  const emit = (b: Buffer, complete: boolean) => {
    out.push({ fragment: cont || !complete, complete, bytes: b.toString('hex') });
    cont = !complete;
  };
  let i = 0;
  while (i < data.length) {
    const window = data.subarray(i, i + size);
    const lf = window.indexOf(0x0a);
    if (lf >= 0) {
      let line = window.subarray(0, lf);
      if (line[line.length - 1] === 0x0d) line = line.subarray(0, -1);
      emit(line, true);
      i += lf + 1;
    } else if (window.length === size) {
      // A full buffer without '\n' is returned as a prefix; a trailing '\r' stays for the next read.
      const heldCr = window[size - 1] === 0x0d;
      emit(heldCr ? window.subarray(0, -1) : window, false);
      i += heldCr ? size - 1 : size;
    } else {
      if (end) emit(window, true);
      break;
    }
  }
  return out;
}

describe('property: stderr line splitter', () => {
  it(`emits the same pieces however the bytes are chunked, equal to a ReadLine model (${RUNS} cases)`, (t) => {
    check(
      t,
      fc.property(streamBytes, cutsArb, fc.constantFrom(1, 16, 17, 20, 64, 65536), fc.boolean(), (bytes, cuts, max, end) => {
        const whole = splitAll(max, [bytes], end);
        assert.deepEqual(splitAll(max, chunked(bytes, cuts), end), whole);
        assert.deepEqual(
          whole.map(({ text: _t, ...rest }) => rest),
          readLineModel(Math.max(16, max), bytes, end),
        );
        // Text: whole lines decode their bytes; an over-long line's fragment texts join to the line's text.
        let group: Piece[] = [];
        for (const p of whole) {
          if (!p.fragment) assert.equal(p.text, Buffer.from(p.bytes, 'hex').toString('utf8'));
          else group.push(p);
          if (p.fragment && p.complete) {
            const joined = Buffer.concat(group.map((g) => Buffer.from(g.bytes, 'hex'))).toString('utf8');
            assert.equal(group.map((g) => g.text).join(''), joined);
            group = [];
          }
        }
      }),
    );
  });

  it('buffers at most maxLineBytes whatever arrives (10 MiB line without a newline)', (t) => {
    const max = 65536;
    let pieces = 0;
    let longest = 0;
    const splitter = createLineSplitter({
      maxLineBytes: max,
      onLine: (_text, info) => {
        pieces++;
        longest = Math.max(longest, info.bytes.length);
      },
    });
    const block = Buffer.alloc(max + 4099, 0x62);
    const base = retainedBuffers();
    let peak = 0;
    let fed = 0;
    for (let i = 0; fed < 10 * MIB; i++) {
      const piece = block.subarray(0, 1 + ((i * 104729) % block.length));
      splitter.push(piece);
      fed += piece.length;
      if (i % 64 === 0) peak = Math.max(peak, retainedBuffers() - base);
    }
    splitter.end();
    t.diagnostic(`fed ${fed} bytes as ${pieces} fragments (longest ${longest}); peak Buffer growth ${peak} bytes`);
    assert.equal(longest, max);
    assert.ok(pieces >= Math.floor(fed / max));
    assert.ok(peak < 3 * max + block.length, `peak ${peak}`);
  });

  it('grows no memory over repeated stream batches', async (t) => {
    const inputs = fc.sample(fc.tuple(streamBytes, cutsArb), { numRuns: 2000, seed: 11 });
    await assertNoGrowth(t, 'line splitter + first-line reader', inputs.length, () => {
      for (const [bytes, cuts] of inputs) {
        splitAll(64, chunked(bytes, cuts), true);
        readFirstLine(64, chunked(bytes, cuts), true);
      }
    });
  });
});

describe('handshake certificate found by the properties', () => {
  it('the fixed certificates have the shape generateCertificate makes today', () => {
    const fresh = new X509Certificate(generateCertificate().certDer);
    for (const der of CERTS) {
      const c = new X509Certificate(der);
      assert.equal(c.subject, fresh.subject);
      assert.equal(c.publicKey.asymmetricKeyDetails?.namedCurve, fresh.publicKey.asymmetricKeyDetails?.namedCurve);
      assert.equal(der.length > 500 && der.length < 700, true);
      assert.ok(decodeHandshakeCert(encodeHandshakeCert(der)).equals(der));
    }
  });

  it('rejects a certificate followed by trailing bytes, as Go\'s x509.ParseCertificate does', () => {
    const der = CERTS[0] as Buffer;
    for (const extra of [Buffer.from([0]), Buffer.from('garbage')]) {
      const field = encodeHandshakeCert(Buffer.concat([der, extra]));
      assert.throws(
        () => decodeHandshakeCert(field),
        (e: unknown) => e instanceof HandshakeError && e.code === 'ERR_LOOPP_SERVER_CERT' && e.message === 'error parsing server cert: x509: trailing data',
      );
    }
  });

  it('rejects a certificate that is not in DER form although OpenSSL parses it (found by make fuzz)', () => {
    const der = Buffer.from(CERTS[0] as Buffer);
    // The signature is the certificate's last element, a BIT STRING whose first content byte counts unused bits.
    const [, , signature] = readChildren(readTlv(der).node);
    assert.ok(signature !== undefined && signature.tag === 0x03 && signature.value[0] === 0);
    // Two unused bits that are not zero: DER (and Go's parser) forbid it, OpenSSL masks them off in `raw`.
    der[der.length - signature.value.length] = 2;
    der[der.length - 1] = (der[der.length - 1] as number) | 0x03;
    assert.throws(
      () => decodeHandshakeCert(encodeHandshakeCert(der)),
      (e: unknown) => e instanceof HandshakeError && e.code === 'ERR_LOOPP_SERVER_CERT' && e.message === 'error parsing server cert: x509: malformed certificate (not in DER form)',
    );
  });
});
