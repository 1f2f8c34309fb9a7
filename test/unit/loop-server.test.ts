import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as net from 'node:net';
import { Counter, Gauge, Registry } from 'prom-client';
import { isLooppError } from '../../src/core/errors';
import { createStderrParser, isHclogTimestamp } from '../../src/wire/hclog';
import { Base, ServiceError, type Service } from '../../src/loop/plugin/base';
import { createHealthChecker } from '../../src/loop/plugin/checker';
import { parseV24EnvConfig } from '../../src/loop/wire/env-config/parse';
import { createLoopPluginLogger, formatLoopLogLine } from '../../src/loop/plugin/logger';
import { PromServer, createPromServer } from '../../src/loop/plugin/prom-server';
import { startServer } from '../../src/loop/plugin/start-server';

/** The two uint32 variables the newest EnvConfig parser requires (a newest host always sends them). */
const MERCURY = { CL_MERCURY_TRANSMITTER_TRANSMIT__QUEUE_MAX_SIZE: '0', CL_MERCURY_TRANSMITTER_TRANSMIT_CONCURRENCY: '0' };
const env = (port: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({ ...MERCURY, CL_PROMETHEUS_PORT: port, ...extra });

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function get(port: number, path = '/metrics'): Promise<{ status: number; type: string | null; body: string }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { headers: { connection: 'close' } });
  return { status: res.status, type: res.headers.get('content-type'), body: await res.text() };
}

async function metricValue(registry: Registry, name: string, labels: Record<string, string> = {}): Promise<number | undefined> {
  const m = registry.getSingleMetric(name);
  if (m === undefined) return undefined;
  const data = await m.get();
  const v = data.values.find((x) => Object.entries(labels).every(([k, val]) => x.labels[k] === val) && Object.keys(x.labels).length === Object.keys(labels).length);
  return v?.value;
}

function takenPort(): Promise<net.Server> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, () => resolve(s));
  });
}

function portOf(s: net.Server): number {
  return (s.address() as net.AddressInfo).port;
}

function capture(): { lines: string[]; write: (line: string) => void; records: () => Record<string, unknown>[] } {
  const lines: string[] = [];
  return {
    lines,
    write: (line) => void lines.push(line),
    records: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

function fakeExit(): { codes: number[]; exit: (code: number) => never } {
  const codes: number[] = [];
  return { codes, exit: ((code: number) => void codes.push(code)) as unknown as (code: number) => never };
}

// ---------------------------------------------------------------------------------------------------------

describe('PromServer', () => {
  it('reports -1 before start, serves its registry on /metrics, 404 elsewhere', async () => {
    const registry = new Registry();
    const c = new Counter({ name: 'test_metric', help: 'a test metric', registers: [registry] });
    c.inc(3);
    const s = createPromServer({ port: 0, registry, logger: { name: 'PluginX', debug() {}, warn() {}, error() {} } });
    assert.equal(s.port(), -1);
    assert.equal(s.name, 'PluginX-prom-server');
    await s.start();
    try {
      assert.ok(s.port() > 0);
      const r = await get(s.port());
      assert.equal(r.status, 200);
      assert.equal(r.type, registry.contentType);
      assert.match(r.body, /^test_metric 3$/m);
      assert.equal((await get(s.port(), '/metrics?x=1')).status, 200);
      const nf = await get(s.port(), '/nope');
      assert.equal(nf.status, 404);
      assert.equal(nf.body, '404 page not found\n');
      const res = await fetch(`http://127.0.0.1:${s.port()}/metrics`, { method: 'POST', body: 'x' });
      assert.equal(res.status, 405);
      await res.text();
    } finally {
      await s.close();
    }
    assert.ok(s.port() > 0, 'port() keeps the bound port after close, as Go');
  });

  it('close() without start resolves at once and is idempotent; start() after close rejects', async () => {
    const s = new PromServer({ port: 0 });
    assert.equal(s.name, 'prom-server');
    await s.close();
    await s.close();
    await assert.rejects(s.start(), (err: unknown) => isLooppError(err) && err.code === 'ERR_LOOPP_LOOP_CLOSED');
    assert.equal(s.port(), -1);

    const t = new PromServer({ port: 0 });
    await t.start();
    await Promise.all([t.close(), t.close()]);
    await t.close();
    await assert.rejects(get(t.port()));
  });

  it('runs two servers in one process, each with its own registry (Go panics)', async () => {
    const r1 = new Registry();
    const r2 = new Registry();
    new Gauge({ name: 'only_in_one', help: 'h', registers: [r1] }).set(1);
    new Gauge({ name: 'only_in_two', help: 'h', registers: [r2] }).set(2);
    const a = new PromServer({ port: 0, registry: r1, host: '127.0.0.1' });
    const b = new PromServer({ port: 0, registry: r2, host: '127.0.0.1' });
    await Promise.all([a.start(), b.start()]);
    try {
      const [x, y] = await Promise.all([get(a.port()), get(b.port())]);
      assert.match(x.body, /^only_in_one 1$/m);
      assert.doesNotMatch(x.body, /only_in_two/);
      assert.match(y.body, /^only_in_two 2$/m);
      assert.doesNotMatch(y.body, /only_in_one/);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('defaults to a registry of its own, never the global one', async () => {
    const s = new PromServer({ port: 0 });
    await s.start();
    try {
      const r = await get(s.port());
      assert.equal(r.status, 200);
      assert.equal(r.body.trim(), '');
    } finally {
      await s.close();
    }
  });

  it('fails a taken port with Go wording; port() stays -1; a clean close logs no error', async () => {
    const holder = await takenPort();
    const heldPort = portOf(holder);
    const logged: string[] = [];
    const logger = {
      name: 'P',
      debug: (m: string) => void logged.push(`debug ${m}`),
      warn: (m: string) => void logged.push(`warn ${m}`),
      error: (m: string) => void logged.push(`error ${m}`),
    };
    try {
      const s = new PromServer({ port: portOf(holder), logger });
      await assert.rejects(s.start(), (err: unknown) => {
        assert.ok(isLooppError(err));
        assert.equal(err.code, 'ERR_LOOPP_LOOP_LISTEN');
        assert.equal(err.message, `listen tcp :${portOf(holder)}: bind: address already in use`);
        return true;
      });
      assert.equal(s.port(), -1);
      await s.close();
    } finally {
      holder.close();
    }
    const ok = new PromServer({ port: 0, logger });
    await ok.start();
    await get(ok.port());
    await ok.close();
    assert.deepEqual(
      logged.filter((l) => !l.startsWith('debug')),
      [],
    );
    assert.ok(logged.includes(`debug Starting prom server on port ${heldPort}`));
    assert.ok(logged.includes('debug P-prom-server closed'));
  });

  it('rejects an invalid port', async () => {
    for (const port of [-1, 65536, 1.5, NaN]) {
      const s = new PromServer({ port });
      await assert.rejects(s.start(), (err: unknown) => isLooppError(err) && err.code === 'ERR_LOOPP_LOOP_LISTEN' && /invalid port/.test(err.message));
      assert.equal(s.port(), -1);
    }
  });

  it('close() waits for an in-flight scrape and then finishes', async () => {
    const registry = new Registry();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let entered!: () => void;
    const inFlight = new Promise<void>((r) => (entered = r));
    new Gauge({
      name: 'slow',
      help: 'h',
      registers: [registry],
      async collect() {
        entered();
        await gate;
        this.set(7);
      },
    });
    const s = new PromServer({ port: 0, registry, host: '127.0.0.1' });
    await s.start();
    const scrape = get(s.port());
    await inFlight;
    let closed = false;
    const closing = s.close().then(() => (closed = true));
    await sleep(50);
    assert.equal(closed, false);
    release();
    const r = await scrape;
    assert.match(r.body, /^slow 7$/m);
    await closing;
  });
});

// ---------------------------------------------------------------------------------------------------------

describe('health checker', () => {
  it('exports health, uptime_seconds and version after start; caches ready/health maps', async () => {
    const registry = new Registry();
    const checker = createHealthChecker({ registry, version: 'v1.2.3', commit: 'abc' });
    const bad = new Error('down');
    checker.register('svc', {
      ready: () => {},
      healthReport: () => ({ svc: null, 'svc.sub': bad }),
    });
    checker.register('other', {
      ready: async () => {
        throw new Error('not yet');
      },
      healthReport: () => ({ other: undefined }),
    });
    await checker.start();
    try {
      assert.equal(await metricValue(registry, 'health', { service_id: 'svc' }), 1);
      assert.equal(await metricValue(registry, 'health', { service_id: 'svc.sub' }), 0);
      assert.equal(await metricValue(registry, 'health', { service_id: 'other' }), 1);
      assert.equal(await metricValue(registry, 'uptime_seconds'), 15);
      assert.equal(await metricValue(registry, 'version', { version: 'v1.2.3', commit: 'abc' }), 1);
      const text = await registry.metrics();
      assert.match(text, /^health\{service_id="svc"\} 1$/m);
      assert.match(text, /^version\{version="v1.2.3",commit="abc"\} 1$/m);

      const h = checker.isHealthy();
      assert.equal(h.healthy, false);
      assert.deepEqual(Object.keys(h.errors).sort(), ['other', 'svc', 'svc.sub']);
      assert.equal(h.errors['svc.sub'], bad);
      assert.equal(h.errors['svc'], null);
      assert.equal(h.errors['other'], null);
      const r = checker.isReady();
      assert.equal(r.ready, false);
      assert.equal(r.errors['svc'], null);
      assert.equal(r.errors['other']?.message, 'not yet');

      assert.equal(checker.unregister('svc'), true);
      assert.equal(checker.unregister('svc'), false);
      assert.deepEqual(Object.keys(checker.isHealthy().errors), ['other']);
      assert.deepEqual(checker.isReady().errors, { other: r.errors['other'] ?? null });
      assert.equal(await metricValue(registry, 'health', { service_id: 'svc' }), undefined);
      assert.equal(await metricValue(registry, 'health', { service_id: 'svc.sub' }), undefined);
    } finally {
      await checker.close();
    }
  });

  it('defaults version labels to unset; start twice fails; close is idempotent and fine unstarted', async () => {
    const registry = new Registry();
    const never = createHealthChecker({ registry: new Registry() });
    await never.close();
    await never.close();
    assert.deepEqual(never.isHealthy(), { healthy: true, errors: {} });

    const checker = createHealthChecker({ registry });
    await checker.start();
    assert.equal(await metricValue(registry, 'version', { version: 'unset', commit: 'unset' }), 1);
    await assert.rejects(checker.start(), (err: unknown) => isLooppError(err) && err.code === 'ERR_LOOPP_STATE' && err.message === 'HealthCheck has already been started once');
    await checker.close();
    await checker.close();
  });

  it('updates every intervalMs (uptime grows by the interval) and sees health changes', async () => {
    const registry = new Registry();
    const checker = createHealthChecker({ registry, intervalMs: 40 });
    let err: Error | null = null;
    let calls = 0;
    checker.register('flappy', {
      ready: () => {},
      healthReport: () => {
        calls++;
        return { flappy: err };
      },
    });
    await checker.start();
    try {
      assert.equal(calls, 1, 'an update runs at once on start');
      assert.equal(await metricValue(registry, 'health', { service_id: 'flappy' }), 1);
      err = new Error('broken');
      await sleep(220);
      assert.ok(calls >= 3, `ticks ran (${calls})`);
      assert.equal(await metricValue(registry, 'health', { service_id: 'flappy' }), 0);
      const uptime = (await metricValue(registry, 'uptime_seconds')) as number;
      assert.ok(uptime >= 0.04 * 3 && uptime <= 0.04 * 12, `uptime ${uptime}`);
      assert.equal(checker.isHealthy().errors['flappy']?.message, 'broken');
    } finally {
      await checker.close();
    }
    const after = calls;
    await sleep(100);
    assert.equal(calls, after, 'no updates after close');
  });

  it('register after start updates at once; misconfigured registrations are refused with Go text', async () => {
    const registry = new Registry();
    const checker = createHealthChecker({ registry });
    await checker.start();
    try {
      checker.register('late', { ready: () => {}, healthReport: () => ({ late: null }) });
      await checker.update();
      assert.equal(await metricValue(registry, 'health', { service_id: 'late' }), 1);
      assert.throws(
        () => checker.register('x', undefined as never),
        (err: unknown) => isLooppError(err) && err.code === 'ERR_LOOPP_CONFIG' && err.message === 'misconfigured check <nil> for x',
      );
      assert.throws(() => checker.register('', { ready: () => {}, healthReport: () => ({}) }), { message: 'misconfigured check <Object> for ' });
      class Thing {}
      assert.throws(() => checker.register('t', new Thing() as never), { message: 'misconfigured check <Thing> for t' });
    } finally {
      await checker.close();
    }
  });

  it('a hanging or throwing check counts as an error instead of blocking', async () => {
    const registry = new Registry();
    const checker = createHealthChecker({ registry, intervalMs: 60_000, checkTimeoutMs: 50 });
    checker.register('hang', { ready: () => new Promise<void>(() => {}), healthReport: () => ({ hang: null }) });
    checker.register('boom', {
      ready: () => {},
      healthReport: () => {
        throw new Error('report failed');
      },
    });
    await checker.start();
    try {
      assert.match(checker.isReady().errors['hang']?.message ?? '', /hang ready check timed out after 50 ms/);
      assert.equal(checker.isHealthy().errors['boom']?.message, 'report failed');
      assert.equal(await metricValue(registry, 'health', { service_id: 'boom' }), 0);
    } finally {
      await checker.close();
    }
  });
});

// ---------------------------------------------------------------------------------------------------------

class FakeService implements Service {
  events: string[];
  constructor(
    readonly id: string,
    events: string[],
    readonly opts: { report?: Record<string, Error | null>; startError?: Error; closeError?: Error; closeGate?: Promise<void> } = {},
  ) {
    this.events = events;
  }
  name(): string {
    return this.id;
  }
  async start(): Promise<void> {
    this.events.push(`start ${this.id}`);
    if (this.opts.startError) throw this.opts.startError;
  }
  async close(): Promise<void> {
    this.events.push(`close ${this.id}`);
    await this.opts.closeGate;
    this.events.push(`closed ${this.id}`);
    if (this.opts.closeError) throw this.opts.closeError;
  }
  ready(): void {}
  healthReport(): Record<string, Error | null> {
    return this.opts.report ?? { [this.id]: null };
  }
}

describe('Base', () => {
  it('merges every sub-report into {[name]: null}, last writer wins (v2.4 bug fixed)', () => {
    const events: string[] = [];
    const e1 = new Error('e1');
    const e2 = new Error('e2');
    const base = new Base({ name: 'PluginSolana' });
    base.subService(new FakeService('a', events, { report: { 'a.x': null, shared: e1 } }));
    base.subService(new FakeService('b', events, { report: { 'b.y': e2, shared: null } }));
    assert.equal(base.name(), 'PluginSolana');
    assert.deepEqual(base.healthReport(), { PluginSolana: null, 'a.x': null, shared: null, 'b.y': e2 });
    assert.deepEqual(new Base('Empty').healthReport(), { Empty: null });
  });

  it('closes all sub-services concurrently and aggregates their errors', async () => {
    const events: string[] = [];
    let open!: () => void;
    const gate = new Promise<void>((r) => (open = r));
    const base = new Base('B');
    const fail1 = new Error('close a failed');
    const fail2 = new Error('close c failed');
    base.subService(
      new FakeService('a', events, { closeGate: gate, closeError: fail1 }),
      new FakeService('b', events, { closeGate: gate }),
      new FakeService('c', events, { closeGate: gate, closeError: fail2 }),
    );
    const closing = base.close();
    await sleep(10);
    assert.deepEqual(events, ['close a', 'close b', 'close c'], 'all close calls are in flight together');
    open();
    await assert.rejects(closing, (err: unknown) => {
      assert.ok(err instanceof ServiceError);
      assert.equal(err.code, 'ERR_LOOPP_SERVICE');
      assert.deepEqual(err.errors, [fail1, fail2]);
      assert.equal(err.message, 'close a failed; close c failed');
      return true;
    });

    const single = new Base('S');
    const only = new Error('only');
    single.subService(new FakeService('x', [], { closeError: only }), new FakeService('y', []));
    await assert.rejects(single.close(), (err: unknown) => err === only);
    await new Base('none').close();
  });

  it('starts in order and rolls back the started ones in reverse on a failure', async () => {
    const events: string[] = [];
    const boom = new Error('start c failed');
    const base = new Base('B');
    base.subService(new FakeService('a', events), new FakeService('b', events), new FakeService('c', events, { startError: boom }), new FakeService('d', events));
    await assert.rejects(base.start(), (err: unknown) => err === boom);
    assert.deepEqual(events, ['start a', 'start b', 'start c', 'close b', 'closed b', 'close a', 'closed a']);
    await assert.rejects(base.start(), (err: unknown) => isLooppError(err) && err.code === 'ERR_LOOPP_STATE');

    const ev2: string[] = [];
    const both = new Base('B2');
    const closeErr = new Error('close a failed');
    both.subService(new FakeService('a', ev2, { closeError: closeErr }), new FakeService('b', ev2, { startError: boom }));
    await assert.rejects(both.start(), (err: unknown) => err instanceof ServiceError && err.errors[0] === boom && err.errors[1] === closeErr);

    const ok = new Base('OK');
    const ev3: string[] = [];
    ok.subService(new FakeService('a', ev3), new FakeService('b', ev3));
    await ok.start();
    await ok.ready();
    assert.deepEqual(ev3, ['start a', 'start b']);
  });
});

// ---------------------------------------------------------------------------------------------------------

const T = new Date(Date.UTC(2024, 0, 2, 15, 4, 5, 123));

describe('LOOP plugin logger', () => {
  it('writes zap-production-like JSON in the documented key order', () => {
    const out = capture();
    const root = createLoopPluginLogger({ write: out.write, now: () => T, utcOffsetMinutes: 0 });
    const lggr = root.named('PluginMedian');
    lggr.info('hi', { k: 'v' });
    assert.equal(out.lines[0], '{"@level":"info","@timestamp":"2024-01-02T15:04:05.123000Z","logger":"PluginMedian","@message":"hi","k":"v"}\n');
    root.debug('root has no logger key');
    assert.equal(out.lines[1], '{"@level":"debug","@timestamp":"2024-01-02T15:04:05.123000Z","@message":"root has no logger key"}\n');

    const east = createLoopPluginLogger({ name: 'A', write: out.write, now: () => T, utcOffsetMinutes: 330 });
    east.named('B').with({ chain: 'solana', n: 1 }).warn('w', { n: 2, err: new Error('bad thing') });
    assert.equal(
      out.lines[2],
      '{"@level":"warn","@timestamp":"2024-01-02T20:34:05.123000+05:30","logger":"A.B","@message":"w","chain":"solana","n":2,"err":"bad thing"}\n',
    );
    for (const line of out.lines) {
      const rec = JSON.parse(line) as Record<string, unknown>;
      assert.ok(isHclogTimestamp(rec['@timestamp'] as string), String(rec['@timestamp']));
    }
    // go-plugin's host parses it as a JSON entry.
    const parsed = createStderrParser().parseLine(out.lines[0]!.trimEnd());
    assert.equal(parsed.kind, 'json');
    if (parsed.kind === 'json') {
      assert.equal(parsed.level, 'info');
      assert.equal(parsed.message, 'hi');
      assert.deepEqual(parsed.fields, { logger: 'PluginMedian', k: 'v' });
    }
  });

  it('uses the local offset by default', () => {
    const out = capture();
    createLoopPluginLogger({ write: out.write }).info('now');
    const ts = out.records()[0]!['@timestamp'] as string;
    assert.ok(isHclogTimestamp(ts), ts);
    assert.match(ts, /\.\d{3}000(Z|[+-]\d\d:\d\d)$/);
  });

  it('maps levels: critical = dpanic, panic throws, fatal exits 1; threshold drops lower levels', () => {
    const out = capture();
    const ex = fakeExit();
    const l = createLoopPluginLogger({ name: 'L', write: out.write, now: () => T, utcOffsetMinutes: 0, exit: ex.exit });
    l.debug('d');
    l.error('e');
    l.critical('c');
    assert.throws(() => l.panic('p', { a: 1 }), (err: unknown) => isLooppError(err) && err.code === 'ERR_LOOPP_PANIC' && err.message === 'p');
    l.fatal('f');
    assert.deepEqual(ex.codes, [1]);
    assert.deepEqual(
      out.records().map((r) => [r['@level'], r['@message']]),
      [
        ['debug', 'd'],
        ['error', 'e'],
        ['dpanic', 'c'],
        ['panic', 'p'],
        ['fatal', 'f'],
      ],
    );
    const quiet = capture();
    const w = createLoopPluginLogger({ level: 'warn', write: quiet.write });
    w.debug('no');
    w.info('no');
    w.warn('yes');
    assert.equal(quiet.lines.length, 1);
    assert.equal(w.isLevelEnabled('info'), false);
    assert.throws(() => createLoopPluginLogger({ level: 'trace' as never }), (err: unknown) => isLooppError(err) && err.code === 'ERR_LOOPP_CONFIG');
  });

  it('keeps every value JSON-safe and drops fields that would fake the entry', () => {
    const out = capture();
    const l = createLoopPluginLogger({ write: out.write, now: () => T, utcOffsetMinutes: 0 });
    const cyc: Record<string, unknown> = { a: 1 };
    cyc['self'] = cyc;
    l.info('values', {
      big: 12345678901234567890n,
      nan: NaN,
      inf: -Infinity,
      undef: undefined,
      bytes: new Uint8Array([1, 2, 3]),
      map: new Map([['k', 1]]),
      set: new Set([1, 2]),
      cyc,
      nested: { e: new Error('inner') },
      '@level': 'error',
      '@message': 'fake',
      logger: 'fake',
      '@timestamp': 1,
      caller: 'x',
      stacktrace: 'y',
      fn: () => 1,
    });
    assert.equal(out.lines.length, 1);
    const rec = out.records()[0]!;
    assert.equal(rec['@level'], 'info');
    assert.equal(rec['@message'], 'values');
    assert.equal(rec['logger'], undefined);
    assert.equal(rec['caller'], undefined);
    assert.equal(rec['stacktrace'], undefined);
    assert.deepEqual(
      { ...rec, '@timestamp': undefined, fn: undefined },
      {
        '@level': 'info',
        '@timestamp': undefined,
        '@message': 'values',
        big: '12345678901234567890',
        nan: 'NaN',
        inf: '-Inf',
        undef: null,
        bytes: 'AQID',
        map: { k: 1 },
        set: [1, 2],
        cyc: { a: 1, self: '[Circular]' },
        nested: { e: 'inner' },
        fn: undefined,
      },
    );
  });

  it('never throws on a broken writer or clock', () => {
    const l = createLoopPluginLogger({
      write: () => {
        throw new Error('EPIPE');
      },
    });
    l.info('x');
    const m = createLoopPluginLogger({
      write: () => {},
      now: () => {
        throw new Error('clock');
      },
    });
    m.error('y');
  });

  it('adds caller and stacktrace on request', () => {
    const out = capture();
    const l = createLoopPluginLogger({ write: out.write, caller: true, stacktrace: true });
    l.info('with caller');
    l.error('with stack');
    const [a, b] = out.records();
    assert.match(String(a!['caller']), /^unit\/loop-server\.test\.js:\d+$/);
    assert.equal(a!['stacktrace'], undefined);
    assert.match(String(b!['stacktrace']), /loop-server\.test\.js/);
    assert.deepEqual(Object.keys(b!).slice(0, 4), ['@level', '@timestamp', 'caller', '@message']);
    assert.equal(Object.keys(b!).at(-1), 'stacktrace');
  });

  it('formatLoopLogLine is exported for one-off lines', () => {
    assert.equal(
      formatLoopLogLine({ level: 'error', message: 'm', logger: 'X', caller: 'a/b.go:1', time: T, fields: { z: 1 }, stacktrace: 's' }, { utcOffsetMinutes: -300 }),
      '{"@level":"error","@timestamp":"2024-01-02T10:04:05.123000-05:00","logger":"X","caller":"a/b.go:1","@message":"m","z":1,"stacktrace":"s"}\n',
    );
  });
});

// ---------------------------------------------------------------------------------------------------------

describe('startServer', () => {
  const log = () => ({ ...capture(), now: () => T, utcOffsetMinutes: 0 });

  it('a bad CL_PROMETHEUS_PORT logs Go\'s fatal line and exits 1', async () => {
    const l = log();
    const ex = fakeExit();
    await assert.rejects(
      startServer('PluginTest', { env: env('abc'), exit: ex.exit, log: { write: l.write, now: l.now, utcOffsetMinutes: 0 } }),
      (err: unknown) => {
        assert.ok(isLooppError(err));
        assert.equal(err.code, 'ERR_LOOPP_ENV');
        assert.equal(err.message, 'error getting environment configuration: failed to parse CL_PROMETHEUS_PORT = "abc": strconv.Atoi: parsing "abc": invalid syntax');
        return true;
      },
    );
    assert.deepEqual(ex.codes, [1]);
    assert.equal(
      l.lines.join(''),
      '{"@level":"fatal","@timestamp":"2024-01-02T15:04:05.123000Z","logger":"PluginTest","@message":"Failed to get environment configuration: failed to parse CL_PROMETHEUS_PORT = \\"abc\\": strconv.Atoi: parsing \\"abc\\": invalid syntax"}\n',
    );

    const missing = log();
    const ex2 = fakeExit();
    await assert.rejects(startServer('P', { env: {}, parseEnv: parseV24EnvConfig, exit: ex2.exit, log: { write: missing.write } }));
    assert.deepEqual(ex2.codes, [1]);
    assert.equal(
      missing.records()[0]!['@message'],
      'Failed to get environment configuration: failed to parse CL_PROMETHEUS_PORT = "": strconv.Atoi: parsing "": invalid syntax',
    );
  });

  it('with exitOnFailure: false, rejects with the newest prefixes and never exits', async () => {
    const l = log();
    const ex = fakeExit();
    // The newest parser needs the mercury uint32 variables (chainlink-common's own behaviour).
    await assert.rejects(startServer('P', { exitOnFailure: false, env: { CL_PROMETHEUS_PORT: '0' }, exit: ex.exit, log: { write: l.write } }), {
      code: 'ERR_LOOPP_ENV',
      message: 'error getting environment configuration: strconv.ParseUint: parsing "": invalid syntax',
    });
    await assert.rejects(startServer('P', { exitOnFailure: false, env: env('x'), exit: ex.exit, log: { write: l.write } }), {
      code: 'ERR_LOOPP_ENV',
      message: /^error getting environment configuration: failed to parse CL_PROMETHEUS_PORT = "x"/,
    });
    const holder = await takenPort();
    try {
      const port = portOf(holder);
      await assert.rejects(startServer('P', { exitOnFailure: false, env: env(String(port)), exit: ex.exit, log: { write: l.write } }), {
        code: 'ERR_LOOPP_LOOP_LISTEN',
        message: `error starting prometheus server: listen tcp :${port}: bind: address already in use`,
      });
    } finally {
      holder.close();
    }
    assert.deepEqual(ex.codes, []);
    assert.deepEqual(
      l.records().filter((r) => r['@level'] !== 'debug'),
      [],
    );
  });

  it('a taken port is fatal with the v2.4 text', async () => {
    const holder = await takenPort();
    const l = log();
    const ex = fakeExit();
    try {
      const port = portOf(holder);
      await assert.rejects(startServer('PluginTest', { env: env(String(port)), exit: ex.exit, log: { write: l.write } }), {
        code: 'ERR_LOOPP_LOOP_LISTEN',
      });
      assert.deepEqual(ex.codes, [1]);
      const fatal = l.records().filter((r) => r['@level'] === 'fatal');
      assert.equal(fatal.length, 1);
      assert.equal(fatal[0]!['@message'], `Unrecoverable error starting prometheus server: listen tcp :${port}: bind: address already in use`);
    } finally {
      holder.close();
    }
  });

  it('port 0 works; mustRegister makes health{service_id} visible on /metrics; stop() closes everything', async () => {
    const l = log();
    const ex = fakeExit();
    const s = await startServer('PluginTest', { env: env('0'), exit: ex.exit, version: 'v9', commit: 'c0ffee', log: { write: l.write } });
    try {
      assert.equal(s.logger.name, 'PluginTest');
      assert.equal(s.promServer.name, 'PluginTest-prom-server');
      assert.equal(s.envConfig.prometheusPort, 0);
      assert.ok(s.promServer.port() > 0);
      assert.deepEqual(s.grpcServerOptions, {});

      const base = new Base(s.logger.named('Relayer'));
      base.subService(new FakeService('PluginTest.Relayer.Chain', [], { report: { 'PluginTest.Relayer.Chain': new Error('rpc down') } }));
      s.mustRegister(base);
      await s.checker.update();
      const r = await get(s.promServer.port());
      assert.equal(r.status, 200);
      assert.match(r.body, /^health\{service_id="PluginTest\.Relayer"\} 1$/m);
      assert.match(r.body, /^health\{service_id="PluginTest\.Relayer\.Chain"\} 0$/m);
      assert.match(r.body, /^uptime_seconds 15$/m);
      assert.match(r.body, /^version\{version="v9",commit="c0ffee"\} 1$/m);
      assert.equal(s.checker.isReady().errors['PluginTest.Relayer'], null);

      assert.throws(() => s.register({ name: () => 'x' } as never), { message: 'misconfigured check <Object> for x' });
      assert.throws(() => s.mustRegister({ name: () => 'x' } as never));
      assert.deepEqual(ex.codes, [1]);
      const fatal = l.records().filter((rec) => rec['@level'] === 'fatal');
      assert.deepEqual(
        fatal.map((rec) => rec['@message']),
        ['Failed to register x with health checker: misconfigured check <Object> for x'],
      );
    } finally {
      await s.stop();
      await s.stop();
    }
    await assert.rejects(get(s.promServer.port()));
    assert.deepEqual(
      l.records().filter((rec) => rec['@level'] === 'error'),
      [],
      'a clean stop logs no error',
    );
  });

  it('honours CL_GRPC_SERVER_MAX_RECV_MSG_SIZE in grpcServerOptions; a v2.4 environment works with parseV24EnvConfig', async () => {
    const a = await startServer('A', { exitOnFailure: false, env: env('0', { CL_GRPC_SERVER_MAX_RECV_MSG_SIZE: '8388608' }), log: { write: () => {} } });
    await a.stop();
    assert.deepEqual(a.grpcServerOptions, { 'grpc.max_receive_message_length': 8388608 });
    const b = await startServer('B', { env: { CL_PROMETHEUS_PORT: '0' }, parseEnv: parseV24EnvConfig, log: { write: () => {} } });
    try {
      assert.ok(b.promServer.port() > 0);
      assert.deepEqual(b.grpcServerOptions, {});
    } finally {
      await b.stop();
    }
  });

  it('each server has its own registry (two in one process)', async () => {
    const a = await startServer('A', { exitOnFailure: false, env: env('0'), log: { write: () => {} } });
    const b = await startServer('B', { exitOnFailure: false, env: env('0'), log: { write: () => {} } });
    try {
      assert.notEqual(a.registry, b.registry);
      a.register({ name: () => 'only-a', ready: () => {}, healthReport: () => ({ 'only-a': null }) });
      await a.checker.update();
      assert.match((await get(a.promServer.port())).body, /service_id="only-a"/);
      assert.doesNotMatch((await get(b.promServer.port())).body, /service_id="only-a"/);
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  });
});
