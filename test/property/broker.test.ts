/**
 * Property tests: GrpcBroker message handling. A broker on a fake StartStream stream is fed random
 * ConnInfo / knock messages mixed with random acceptAndServe / dial / close calls, in classic mode (fake
 * listeners) and in multiplexed mode (real MuxRouter, in-memory streams, real bridge sockets): nothing
 * throws untyped, every dial and accept settles with a value or a BrokerError, and after close() no slot,
 * timer, waiting dial, server, bridge or bridge socket file is left.
 * The broker's 5 s timeout is replaced by a few ms through its internal `timeoutMs` option.
 * Seed / runs / replay: see fc-config.ts.
 */
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type * as net from 'node:net';
import { PassThrough, type Duplex } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import fc from 'fast-check';
import { Broker, brokerResources, type BrokerServer } from '../../src/shared/broker';
import { createLock, type MuxContext } from '../../src/shared/mux';
import { transportCredentials } from '../../src/net/grpc/credentials';
import { createLog } from '../../src/core/debug';
import { BrokerError } from '../../src/core/errors';
import { type ConnInfo } from '../../src/gen';
import { MuxRouter } from '../../src/net/yamux/router';
import type { Listener } from '../../src/net/transport';
import { YamuxError } from '../../src/net/yamux/index';
import { listDir, rmDir, sleep, tmpDir } from '../helpers';
import { CHECK_COVERAGE, RUNS, assertNoGrowth, assertTypedError, checkAsync, nastyString, within } from './fc-config';

const TIMEOUT_MS = 1;

/** The StartStream stand-in (as in test/unit/broker-stream.test.ts) that can also end or fail. */
class FakeStream extends EventEmitter {
  written: ConnInfo[] = [];
  write(m: ConnInfo): boolean {
    this.written.push(m);
    return true;
  }
}

let bridgeRoot: string;
before(() => {
  bridgeRoot = tmpDir('loopp-prop-broker-');
});
after(() => rmDir(bridgeRoot));

const serviceId = fc.oneof({ weight: 6, arbitrary: fc.integer({ min: 0, max: 3 }) }, { weight: 1, arbitrary: fc.constantFrom(0xffff_ffff, 0x8000_0000, 2 ** 31 - 1) });
const connInfo: fc.Arbitrary<ConnInfo> = fc.record({
  serviceId,
  network: fc.oneof(fc.constantFrom('unix', 'tcp', '', 'udp', 'UNIX'), nastyString(4)),
  address: fc.oneof(fc.constantFrom('', '/tmp/x.sock', '127.0.0.1:1', '127.0.0.1:99999', 'host'), nastyString(8)),
  knock: fc.option(fc.record({ knock: fc.boolean(), ack: fc.boolean(), error: fc.oneof(fc.constant(''), fc.constant(''), nastyString(6)) }), { nil: undefined }),
});

type Op =
  | { op: 'recv'; m: ConnInfo }
  | { op: 'ack'; id: number }
  | { op: 'serve'; id: number }
  | { op: 'dial'; id: number; abort: boolean; answer: boolean }
  | { op: 'closeServer'; index: number }
  | { op: 'end' | 'error' | 'attach' | 'close' | 'tick' | 'sleep' | 'settle' | 'openFails' };

const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ op: fc.constant('recv' as const), m: connInfo }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('ack' as const), id: serviceId }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('serve' as const), id: serviceId }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('dial' as const), id: serviceId, abort: fc.boolean(), answer: fc.boolean() }) },
  fc.record({ op: fc.constant('closeServer' as const), index: fc.nat() }),
  fc.constantFrom(...(['end', 'error', 'attach', 'close', 'tick', 'tick', 'tick', 'sleep', 'openFails'] as const)).map((o) => ({ op: o })),
  // let every dial so far finish (a multiplexed dial builds its bridge socket asynchronously)
  { weight: 2, arbitrary: fc.constant({ op: 'settle' as const }) },
);

const BROKER_CODES = ['ERR_LOOPP_BROKER', 'ERR_LOOPP_BROKER_CLOSED', 'ERR_LOOPP_BROKER_TIMEOUT'] as const;
/** BrokerErrors carry hints only where there is advice (e.g. timeouts); the class and code are the contract. */
const BROKER = { codes: BROKER_CODES, hint: false, error: (e: unknown) => assert.ok(e instanceof BrokerError, `${(e as Error).name} is not a BrokerError`) };

interface Totals {
  dialsOk: number;
  dialErrors: Record<string, number>;
  served: number;
}

async function runBroker(multiplexed: boolean, attachFirst: boolean, ops: readonly Op[], totals: Totals): Promise<void> {
  const stream = new FakeStream();
  const bridgeDir = bridgeRoot;
  let listeners = 0;
  let listenersClosed = 0;
  let openFails = false;
  const opened: Duplex[] = [];
  const mux: MuxContext | undefined = multiplexed
    ? {
        open: () => {
          // the real MuxContext.open throws a YamuxError once the session is gone
          if (openFails) throw new YamuxError('session-shutdown', 'session shutdown');
          const s = new PassThrough();
          opened.push(s);
          return s;
        },
        router: new MuxRouter(createLog('broker', 'prop')),
        lock: createLock(),
        bridgeDir,
      }
    : undefined;
  const broker = new Broker({
    side: 'host',
    timeoutMs: TIMEOUT_MS,
    mux,
    transport: {
      listen: async (): Promise<Listener> => {
        const n = ++listeners;
        let closed = false;
        return {
          network: 'unix',
          address: `/nonexistent/prop-${n}.sock`,
          server: new EventEmitter() as unknown as net.Server,
          close: async () => {
            if (!closed) listenersClosed++;
            closed = true;
          },
        };
      },
      credentials: transportCredentials(undefined),
    },
  });
  let attached = false;
  const attach = () => {
    if (attached) return;
    attached = true;
    broker.attach(stream);
  };
  if (attachFirst) attach();

  const dials: Array<Promise<{ channel?: grpc.ChannelInterface; error?: unknown; abortReason?: unknown }>> = [];
  const serves: Array<Promise<BrokerServer | undefined>> = [];
  const servers: BrokerServer[] = [];
  const controllers: AbortController[] = [];

  for (const o of ops) {
    switch (o.op) {
      case 'recv':
        stream.emit('data', o.m);
        break;
      case 'ack':
        stream.emit('data', { serviceId: o.id, network: '', address: '', knock: { knock: true, ack: true, error: '' } });
        break;
      case 'serve':
        serves.push(
          broker.acceptAndServe(o.id, () => {}).then(
            (s) => {
              servers.push(s);
              return s;
            },
            (err: unknown) => {
              assertTypedError(err, BROKER);
              return undefined;
            },
          ),
        );
        break;
      case 'dial': {
        const ac = new AbortController();
        const reason = new Error('aborted by the caller');
        if (o.abort) controllers.push(ac);
        dials.push(
          broker.dial(o.id, { signal: ac.signal }).then(
            (channel) => ({ channel }),
            (error: unknown) => ({ error, abortReason: ac.signal.aborted ? reason : undefined }),
          ),
        );
        if (o.abort) queueMicrotask(() => ac.abort(reason));
        // the peer answers at once: a knock ack (multiplexed) or a ConnInfo with a dialable address (classic)
        if (o.answer) {
          stream.emit('data', multiplexed
            ? { serviceId: o.id, network: '', address: '', knock: { knock: true, ack: true, error: '' } }
            : { serviceId: o.id, network: 'unix', address: '/nonexistent/peer.sock', knock: undefined });
        }
        break;
      }
      case 'closeServer':
        if (servers.length > 0) await within(5000, 'BrokerServer.close()', (servers[o.index % servers.length] as BrokerServer).close());
        break;
      case 'end':
        stream.emit('end');
        break;
      case 'error':
        // (an EventEmitter throws an 'error' nobody listens to; the broker listens once attached)
        if (attached) stream.emit('error', new Error('stream broke'));
        break;
      case 'attach':
        attach();
        break;
      case 'close':
        await within(5000, 'broker.close()', broker.close());
        break;
      case 'tick':
        await new Promise((r) => setImmediate(r));
        break;
      case 'sleep':
        await sleep(TIMEOUT_MS + 1);
        break;
      case 'settle':
        await within(5000, 'dials (settle)', Promise.all(dials));
        break;
      case 'openFails':
        openFails = true;
        break;
    }
  }

  await within(5000, 'broker.close()', broker.close());
  // Every dial and accept settles once the broker is closed: with a value, a BrokerError or the caller's abort reason.
  const results = await within(5000, 'dials after close', Promise.all(dials));
  await within(5000, 'acceptAndServe after close', Promise.all(serves));
  const left = broker[brokerResources]();
  assert.deepEqual(left, { slots: 0, waiting: 0, servers: 0, bridges: 0, unsent: 0 }, 'resources left after close');
  assert.equal(listenersClosed, listeners, 'every classic listener closed');
  for (const r of results) {
    if (r.channel !== undefined) {
      totals.dialsOk++;
      r.channel.close();
    } else if (r.abortReason !== undefined && r.error === r.abortReason) {
      // an aborted dial rejects with the caller's reason (AbortSignal convention), classic and multiplexed
      totals.dialErrors['abort'] = (totals.dialErrors['abort'] ?? 0) + 1;
    } else {
      const e = assertTypedError(r.error, BROKER);
      totals.dialErrors[e.code] = (totals.dialErrors[e.code] ?? 0) + 1;
    }
  }
  totals.served += servers.length;
  for (const s of opened) s.destroy();
  // Bridge sockets (multiplexed dials) are removed asynchronously after release.
  if (multiplexed) {
    const deadline = Date.now() + 5000;
    while (listDir(bridgeDir).length > 0 && Date.now() < deadline) await sleep(1);
    const leaked = listDir(bridgeDir);
    // Remove a leak before failing, so the next (shrinking) cases start clean and the report names the case that leaked.
    for (const name of leaked) fs.rmSync(path.join(bridgeDir, name), { recursive: true, force: true });
    assert.deepEqual(leaked, [], 'bridge sockets left after close');
  }
  // Messages after close are ignored: nothing new is held.
  stream.emit('data', { serviceId: 1, network: 'unix', address: '/x', knock: undefined });
  assert.deepEqual(broker[brokerResources](), left);
}

describe('property: GrpcBroker message handling', () => {
  for (const multiplexed of [false, true]) {
    it(`${multiplexed ? 'multiplexed' : 'classic'}: random ConnInfo/knock sequences with accept/dial/close settle typed and leave nothing (${RUNS} cases)`, async (t) => {
      const totals: Totals = { dialsOk: 0, dialErrors: {}, served: 0 };
      await checkAsync(
        t,
        fc.asyncProperty(fc.boolean(), fc.array(op, { minLength: 1, maxLength: 10 }), async (attachFirst, ops) => {
          await runBroker(multiplexed, attachFirst, ops, totals);
        }),
      );
      t.diagnostic(`totals: ${JSON.stringify(totals)}`);
      if (CHECK_COVERAGE) {
        assert.ok(totals.dialsOk > 0 && totals.served > 0, 'some dials and accepts succeeded');
        for (const code of ['ERR_LOOPP_BROKER_CLOSED', 'ERR_LOOPP_BROKER_TIMEOUT', 'abort']) assert.ok((totals.dialErrors[code] ?? 0) > 0, `no dial ended ${code}`);
      }
    });
  }

  it('grows no memory over repeated broker batches', async (t) => {
    const scenarios = fc.sample(fc.tuple(fc.boolean(), fc.boolean(), fc.array(op, { minLength: 1, maxLength: 10 })), { numRuns: 200, seed: 17 });
    const totals: Totals = { dialsOk: 0, dialErrors: {}, served: 0 };
    await assertNoGrowth(t, 'GrpcBroker', scenarios.length, async () => {
      for (const [mux, attachFirst, ops] of scenarios) await runBroker(mux, attachFirst, ops, totals);
    }, 8 * 1024 * 1024);
  });
});
