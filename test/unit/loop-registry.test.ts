/**
 * LOOP registry: port allocators (v2.4.0 sequence, freeport behaviour), LoopRegistry (chainlink's
 * TestPluginPortManager contract, unregister/reuse, logging), newCmdFactory and RegistrarConfig.
 */
import assert from 'node:assert/strict';
import * as net from 'node:net';
import * as util from 'node:util';
import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { describe, it } from 'node:test';

import createDebug from 'debug';

import { ConfigError, LoopError } from '../../src/core/errors';
import { RegistrarConfig, newCmdFactory } from '../../src/loop/host/cmd-factory';
import { asCmdEnv } from '../../src/loop/wire/env-config/emit';
import { newEnvConfig } from '../../src/loop/wire/env-config/schema';
import { parseEnvConfig } from '../../src/loop/wire/env-config/parse';
import { Second } from '../../src/core/go/duration';
import { createFreePortAllocator, createSequentialPortAllocator, type PortAllocator } from '../../src/loop/host/ports';
import { ERR_EXISTS_MESSAGE, LoopRegistry, isErrExists, type RegisteredLoop } from '../../src/loop/host/registry';

function listen(port: number, host = '127.0.0.1'): Promise<net.Server> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen({ port, host, exclusive: true }, () => resolve(srv));
  });
}

function close(srv: net.Server): Promise<void> {
  return new Promise((resolve) => srv.close(() => resolve()));
}

async function canBind(port: number): Promise<boolean> {
  try {
    await close(await listen(port));
    return true;
  } catch {
    return false;
  }
}

/** chainlink's TestPluginPortManager, against any registry. */
async function portManagerContract(reg: LoopRegistry): Promise<void> {
  const pFoo = await reg.register('foo');
  assert.equal(pFoo.name, 'foo');
  assert.ok(pFoo.envCfg.prometheusPort > 0);
  await assert.rejects(reg.register('foo'), (e: unknown) => {
    assert.ok(isErrExists(e));
    assert.ok(e instanceof LoopError);
    assert.equal(e.message, 'plugin already registered');
    assert.equal(e.code, 'ERR_LOOPP_LOOP_EXISTS');
    return true;
  });
  const pBar = await reg.register('bar');
  assert.equal(pBar.name, 'bar');
  assert.equal(pBar.envCfg.prometheusPort, pFoo.envCfg.prometheusPort + 1);
}

describe('port allocators', () => {
  it('sequential: 2112, 2113, ... never reused', async () => {
    const a = createSequentialPortAllocator();
    assert.equal(await a.take(), 2112);
    assert.equal(await a.take(), 2113);
    a.release(2112);
    assert.equal(await a.take(), 2114);
    const b = createSequentialPortAllocator({ base: 9000 });
    assert.equal(await b.take(), 9000);
  });

  it('free: a block at/above 10000, FIFO, each port bindable', async () => {
    const a = createFreePortAllocator();
    try {
      const p1 = await a.take();
      const p2 = await a.take();
      const block = a.block;
      assert.ok(block !== undefined);
      assert.ok(block.first >= 10000 && (block.first - 10000) % 128 === 0);
      assert.equal(p1, block.first + 1);
      assert.equal(p2, p1 + 1);
      assert.ok(await canBind(p2));
      // the lock port is held
      assert.equal(await canBind(block.first), false);
    } finally {
      await a.close();
    }
  });

  it('free: two allocators in one process get different blocks', async () => {
    const a = createFreePortAllocator();
    const b = createFreePortAllocator();
    try {
      await a.take();
      await b.take();
      assert.notEqual(a.block?.first, b.block?.first);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('free: skips a port held by another listener (and drops it)', async () => {
    const a = createFreePortAllocator();
    let held: net.Server | undefined;
    try {
      const p1 = await a.take();
      held = await listen(p1 + 1);
      assert.equal(await a.take(), p1 + 2);
      await close(held);
      held = undefined;
      assert.equal(await a.take(), p1 + 3);
    } finally {
      if (held) await close(held);
      await a.close();
    }
  });

  it('free: released ports come back once free, after the rest of the block', async () => {
    const a = createFreePortAllocator({ blockSize: 4 }); // lock + 3 ports
    let held: net.Server | undefined;
    try {
      const p1 = await a.take();
      const p2 = await a.take();
      const p3 = await a.take();
      assert.deepEqual([p2, p3], [p1 + 1, p1 + 2]);
      held = await listen(p2); // the plugin still has it bound
      a.release(p2);
      a.release(p1);
      // p1 is free again: reused first (FIFO of the recycled ports); p2 is still bound
      assert.equal(await a.take(), p1);
      const next = a.take();
      setTimeout(() => void close(held as net.Server).then(() => (held = undefined)), 100);
      assert.equal(await next, p2);
    } finally {
      if (held) await close(held);
      await a.close();
    }
  });

  it('free: exhausted block fails with freeport text', async () => {
    const a = createFreePortAllocator({ blockSize: 2 });
    try {
      await a.take();
      await assert.rejects(a.take(), (e: unknown) => {
        assert.ok(e instanceof LoopError);
        assert.equal(e.code, 'ERR_LOOPP_FREE_PORT');
        assert.equal(e.message, 'freeport: impossible to satisfy request; there are no actual free ports in the block anymore');
        return true;
      });
    } finally {
      await a.close();
    }
  });

  it('free: a pending port that never frees times out', async () => {
    const a = createFreePortAllocator({ blockSize: 2, pendingWaitMs: 150 });
    let held: net.Server | undefined;
    try {
      const p = await a.take();
      held = await listen(p);
      a.release(p);
      await assert.rejects(a.take(), /freeport: timed out after 150 ms waiting for a returned port to become free/);
    } finally {
      if (held) await close(held);
      await a.close();
    }
  });

  it('free: holds no timer or handle that keeps the process alive', async () => {
    // A child takes a port and returns; it must exit on its own (the lock listener is unref'd).
    const mod = path.resolve(__dirname, '..', '..', 'src', 'loop', 'host', 'ports.js');
    const script = `require(${JSON.stringify(mod)}).createFreePortAllocator().take().then((p) => console.log(p))`;
    const started = Date.now();
    const out = await new Promise<string>((resolve, reject) => {
      execFile(process.execPath, ['-e', script], { timeout: 10000 }, (err, stdout) => (err ? reject(err) : resolve(stdout)));
    });
    assert.ok(Number(out.trim()) > 10000);
    assert.ok(Date.now() - started < 5000);
  });
});

describe('LoopRegistry', () => {
  it('TestPluginPortManager contract with the free-port allocator (newest default)', async () => {
    const ports = createFreePortAllocator();
    try {
      await portManagerContract(new LoopRegistry({ ports }));
    } finally {
      await ports.close();
    }
  });

  it('TestPluginPortManager contract with the v2.4 sequence (2112 first)', async () => {
    const reg = new LoopRegistry({ mode: 'v2.4' });
    await portManagerContract(reg);
    assert.equal(reg.get('foo')?.envCfg.prometheusPort, 2112);
    assert.equal(reg.get('bar')?.envCfg.prometheusPort, 2113);
  });

  it('get, list (sorted by name, copies), unregister returns the port for reuse', async () => {
    const ports = createFreePortAllocator({ blockSize: 3 });
    try {
      const reg = new LoopRegistry({ ports, envDefaults: { appId: 'node-1', databaseQueryTimeout: 10n * Second, prometheusPort: 1 } });
      assert.deepEqual(reg.list(), []);
      const z = await reg.register('zeta');
      const a = await reg.register('Alpha');
      assert.deepEqual(reg.list().map((l) => l.name), ['Alpha', 'zeta']);
      assert.equal(z.envCfg.appId, 'node-1');
      assert.equal(z.envCfg.databaseQueryTimeout, 10n * Second);
      assert.notEqual(z.envCfg.prometheusPort, 1);
      // copies: mutating a result does not touch the registry
      z.envCfg.appId = 'changed';
      assert.equal(reg.get('zeta')?.envCfg.appId, 'node-1');
      assert.equal(reg.get('nope'), undefined);
      // block of 3 = lock + 2 ports: full now
      await assert.rejects(reg.register('third'), (e: unknown) => e instanceof LoopError && e.code === 'ERR_LOOPP_FREE_PORT' && e.message.startsWith('failed to get free port: freeport: '));
      assert.equal(reg.unregister('nope'), undefined);
      assert.equal(reg.unregister('Alpha'), a.envCfg.prometheusPort);
      assert.equal(reg.get('Alpha'), undefined);
      const again = await reg.register('third');
      assert.equal(again.envCfg.prometheusPort, a.envCfg.prometheusPort);
      // re-registering after unregister is allowed
      await reg.unregister('third');
      await reg.register('Alpha');
    } finally {
      await ports.close();
    }
  });

  it('concurrent duplicate registrations: exactly one wins', async () => {
    const reg = new LoopRegistry({ mode: 'v2.4' });
    const results = await Promise.allSettled([reg.register('x'), reg.register('x'), reg.register('y')]);
    assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'rejected', 'fulfilled']);
    assert.deepEqual(reg.list().map((l) => l.envCfg.prometheusPort), [2112, 2113]);
  });

  it('logs like Go (debug namespace loopp:loop:registry)', async () => {
    const lines: string[] = [];
    const ns = 'loopp:loop:registry';
    const previous = createDebug.disable();
    createDebug.enable(ns);
    const origDefault = createDebug.log;
    createDebug.log = (...args: unknown[]) => void lines.push(util.format(...args));
    try {
      const reg = new LoopRegistry({ mode: 'v2.4', logPrefix: 'node' });
      await reg.register('Solana');
      reg.unregister('Solana');
      reg.unregister('Solana');
    } finally {
      createDebug.log = origDefault;
      createDebug.disable();
      if (previous) createDebug.enable(previous);
    }
    const text = lines.join('\n');
    assert.match(text, /\[node\] Registered loopp "Solana" with port 2112/);
    assert.match(text, /\[node\] Unregistered loopp "Solana"/);
    assert.match(text, /\[node\] Trying to unregistered a loop that is not registered "Solana"/);
  });

  it('isErrExists sees through wrapping causes only', () => {
    const inner = new LoopError('ERR_LOOPP_LOOP_EXISTS', ERR_EXISTS_MESSAGE);
    assert.ok(isErrExists(inner));
    assert.ok(isErrExists(new Error('outer', { cause: inner })));
    assert.equal(isErrExists(new Error(ERR_EXISTS_MESSAGE)), false);
    assert.equal(isErrExists(undefined), false);
  });

  it('close() releases the port block of its own allocator (the lock port binds again); register then rejects', async () => {
    const canBind = (port: number) =>
      new Promise<boolean>((resolve) => {
        const srv = net.createServer();
        srv.once('error', () => resolve(false));
        srv.listen({ host: '127.0.0.1', port, exclusive: true }, () => srv.close(() => resolve(true)));
      });
    const registry = new LoopRegistry();
    const port = (await registry.register('a')).envCfg.prometheusPort;
    // Ports are handed out from the block's second port on: the first is the block's lock.
    assert.equal(await canBind(port - 1), false);
    await registry.close();
    await registry.close();
    assert.equal(await canBind(port - 1), true);
    assert.deepEqual(registry.list().map((l) => l.name), ['a']);
    await assert.rejects(registry.register('b'), (err: unknown) => err instanceof LoopError && err.code === 'ERR_LOOPP_LOOP_CLOSED' && err.input === 'b');
  });

  it('close() leaves an allocator passed in ports open (it is the caller\'s)', async () => {
    const ports = createFreePortAllocator();
    await (async () => {
      await using registry = new LoopRegistry({ ports });
      await registry.register('a');
    })();
    assert.notEqual(ports.block, undefined);
    await ports.close();
  });
});

describe('newCmdFactory', () => {
  it('registers once; every spec has the same port; env file entries first, registry wins', async () => {
    const reg = new LoopRegistry({ mode: 'newest', ports: createSequentialPortAllocator({ base: 10500 }) });
    let calls = 0;
    const register = (id: string): Promise<RegisteredLoop> => {
      calls++;
      return reg.register(id);
    };
    const factory = await newCmdFactory(register, {
      id: 'EVM',
      cmd: '/usr/bin/chainlink-evm',
      args: ['-v'],
      env: [['GOMEMLIMIT', '1MiB'], ['CL_PROMETHEUS_PORT', '1']],
    });
    const s1 = factory();
    const s2 = factory();
    assert.equal(calls, 1);
    assert.notEqual(s1, s2);
    assert.equal(s1.command, '/usr/bin/chainlink-evm');
    assert.deepEqual(s1.args, ['-v']);
    assert.equal(s1.skipHostEnv, true);
    const keys = Object.keys(s1.env);
    assert.equal(keys[0], 'GOMEMLIMIT');
    assert.equal(keys[1], 'CL_PROMETHEUS_PORT');
    assert.equal(s1.env.CL_PROMETHEUS_PORT, '10500');
    assert.equal(s2.env.CL_PROMETHEUS_PORT, '10500');
    assert.deepEqual(keys.slice(2), asCmdEnv(newEnvConfig({ prometheusPort: 10500 })).map(([k]) => k).filter((k) => k !== 'CL_PROMETHEUS_PORT'));
    // what the plugin gets parses back
    assert.equal(parseEnvConfig(s1.env).prometheusPort, 10500);
    // "KEY=VALUE" strings work too
    const f2 = await newCmdFactory((id) => reg.register(id), { id: 'Solana', cmd: 'x', env: ['A=b=c'] });
    assert.equal(f2().env.A, 'b=c');
    await assert.rejects(newCmdFactory((id) => reg.register(id), { id: 'Bad', cmd: 'x', env: ['NOEQUALS'] }), ConfigError);
  });

  it('wraps a failed registration: failed to register <id> LOOP plugin: plugin already registered', async () => {
    const reg = new LoopRegistry({ mode: 'v2.4' });
    await newCmdFactory((id) => reg.register(id), { id: 'Median', cmd: 'chainlink-median' });
    await assert.rejects(newCmdFactory((id) => reg.register(id), { id: 'Median', cmd: 'chainlink-median' }), (e: unknown) => {
      assert.ok(e instanceof LoopError);
      assert.equal(e.message, 'failed to register Median LOOP plugin: plugin already registered');
      assert.equal(e.code, 'ERR_LOOPP_LOOP_EXISTS');
      assert.ok(isErrExists(e));
      assert.ok(e.cause instanceof LoopError);
      return true;
    });
  });

  it("v2.4 mode: only CL_LOG_SQL_MIGRATIONS (when the host has it) and CL_PROMETHEUS_PORT", async () => {
    const reg = new LoopRegistry({ mode: 'v2.4' });
    const factory = await newCmdFactory((id) => reg.register(id), { id: 'Solana', cmd: 'chainlink-solana', mode: 'v2.4' });
    const saved = process.env.CL_LOG_SQL_MIGRATIONS;
    try {
      delete process.env.CL_LOG_SQL_MIGRATIONS;
      assert.deepEqual(factory().env, { CL_PROMETHEUS_PORT: '2112' });
      process.env.CL_LOG_SQL_MIGRATIONS = 'false';
      assert.deepEqual(factory().env, { CL_LOG_SQL_MIGRATIONS: 'false', CL_PROMETHEUS_PORT: '2112' });
    } finally {
      if (saved === undefined) delete process.env.CL_LOG_SQL_MIGRATIONS;
      else process.env.CL_LOG_SQL_MIGRATIONS = saved;
    }
  });
});

describe('RegistrarConfig', () => {
  it('registerLOOP returns the factory and the shared grpcOpts; unregisterLOOP frees the id and port', async () => {
    const ports: PortAllocator = createSequentialPortAllocator({ base: 3000 });
    const reg = new LoopRegistry({ ports });
    const grpcOpts = { dialOpts: ['x'] };
    const rc = RegistrarConfig.fromRegistry(reg, grpcOpts);
    const r1 = await rc.registerLOOP({ id: 'Aptos', cmd: 'chainlink-aptos', env: [['K', 'v']] });
    assert.equal(r1.grpcOpts, grpcOpts);
    assert.equal(r1.cmdFactory().env.CL_PROMETHEUS_PORT, '3000');
    assert.equal(r1.cmdFactory().env.K, 'v');
    await assert.rejects(rc.registerLOOP({ id: 'Aptos', cmd: 'chainlink-aptos' }), /^LoopError: failed to register Aptos LOOP plugin: plugin already registered$/);
    rc.unregisterLOOP('Aptos');
    assert.equal(reg.get('Aptos'), undefined);
    const r2 = await rc.registerLOOP({ id: 'Aptos', cmd: 'chainlink-aptos' });
    assert.equal(r2.cmdFactory().env.CL_PROMETHEUS_PORT, '3001');
  });

  it('works with a bare register function', async () => {
    const seen: string[] = [];
    const rc = new RegistrarConfig({
      register: async (id) => {
        seen.push(id);
        return { name: id, envCfg: newEnvConfig({ prometheusPort: 7 }) };
      },
    });
    const { cmdFactory, grpcOpts } = await rc.registerLOOP({ id: 'Sui', cmd: 'chainlink-sui' });
    assert.deepEqual(grpcOpts, {});
    assert.equal(cmdFactory().env.CL_PROMETHEUS_PORT, '7');
    rc.unregisterLOOP('Sui'); // no unregister function: no-op
    assert.deepEqual(seen, ['Sui']);
  });
});
