/**
 * The transparent unary proxy a LOOP host puts between the median plugin and a relayer's provider:
 * replies, statuses (code, details, trailing metadata), request metadata, deadlines and cancellation
 * cross it unchanged; an upstream that goes away gives the caller UNAVAILABLE, not a hang.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { addUnaryProxy, unaryPaths } from '../../src/loop/wire/grpc-proxy';
import { KVClient, KVService, type GetRequest, type GetResponse } from '../../fixtures/gen/examples/kv/kv';
import { sleep } from '../helpers';

async function listen(server: grpc.Server): Promise<number> {
  return new Promise((resolve, reject) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, port) => (e ? reject(e) : resolve(port))));
}

interface Upstream {
  server: grpc.Server;
  port: number;
  cancelled: string[];
}

async function upstream(): Promise<Upstream> {
  const server = new grpc.Server();
  const cancelled: string[] = [];
  server.addService(KVService, {
    get: (call: grpc.ServerUnaryCall<GetRequest, GetResponse>, cb: grpc.sendUnaryData<GetResponse>) => {
      const key = call.request.key;
      if (key === 'fail') {
        const md = new grpc.Metadata();
        md.set('x-why', 'missing');
        cb({ code: grpc.status.NOT_FOUND, details: 'no such key: fail', metadata: md });
      } else if (key === 'hold') {
        call.on('cancelled', () => cancelled.push(key));
      } else {
        const deadline = call.getDeadline();
        const seen = { key, tag: call.metadata.get('x-tag'), hasDeadline: deadline !== Infinity };
        cb(null, { value: Buffer.from(JSON.stringify(seen)) });
      }
    },
    put: (_call: unknown, cb: grpc.sendUnaryData<object>) => cb(null, {}),
  });
  return { server, port: await listen(server), cancelled };
}

function get(client: KVClient, key: string, md = new grpc.Metadata(), options: grpc.CallOptions = {}): Promise<GetResponse> {
  return new Promise((resolve, reject) => client.get({ key }, md, options, (e, r) => (e ? reject(e) : resolve(r))));
}

describe('addUnaryProxy', () => {
  let up: Upstream;
  let channel: grpc.ChannelInterface;
  let proxy: grpc.Server;
  let client: KVClient;

  before(async () => {
    up = await upstream();
    channel = new grpc.Channel(`127.0.0.1:${up.port}`, grpc.credentials.createInsecure(), {});
    proxy = new grpc.Server();
    addUnaryProxy(proxy, channel, unaryPaths(KVService));
    client = new KVClient(`127.0.0.1:${await listen(proxy)}`, grpc.credentials.createInsecure());
  });
  after(() => {
    client.close();
    proxy.forceShutdown();
    channel.close();
    up.server.forceShutdown();
  });

  it('lists the unary paths of a definition', () => {
    assert.deepEqual(unaryPaths(KVService), ['/proto.KV/Get', '/proto.KV/Put']);
  });

  it('forwards the request bytes, the metadata and the deadline; the reply comes back unchanged', async () => {
    const md = new grpc.Metadata();
    md.set('x-tag', 'median');
    const r = await get(client, 'answer', md, { deadline: Date.now() + 5000 });
    assert.deepEqual(JSON.parse(Buffer.from(r.value).toString()), { key: 'answer', tag: ['median'], hasDeadline: true });
    const plain = await get(client, 'answer');
    assert.deepEqual(JSON.parse(Buffer.from(plain.value).toString()), { key: 'answer', tag: [], hasDeadline: false });
  });

  it("returns the upstream's status: code, details and trailing metadata", async () => {
    await assert.rejects(get(client, 'fail'), (err: grpc.ServiceError) => {
      assert.equal(err.code, grpc.status.NOT_FOUND);
      assert.equal(err.details, 'no such key: fail');
      assert.deepEqual(err.metadata.get('x-why'), ['missing']);
      return true;
    });
  });

  it('a cancelled or expired call is cancelled upstream', async () => {
    await assert.rejects(get(client, 'hold', new grpc.Metadata(), { deadline: Date.now() + 200 }), { code: grpc.status.DEADLINE_EXCEEDED });
    const until = Date.now() + 3000;
    while (up.cancelled.length === 0 && Date.now() < until) await sleep(20);
    assert.deepEqual(up.cancelled, ['hold']);
  });

  it('an upstream that is gone gives UNAVAILABLE at once, and the proxy serves again when it is back', async () => {
    const port = up.port;
    up.server.forceShutdown();
    await assert.rejects(get(client, 'answer', new grpc.Metadata(), { deadline: Date.now() + 5000 }), { code: grpc.status.UNAVAILABLE });
    const again = new grpc.Server();
    again.addService(KVService, { get: (_c: unknown, cb: grpc.sendUnaryData<GetResponse>) => cb(null, { value: Buffer.from('back') }), put: () => {} });
    await new Promise<void>((resolve, reject) => again.bindAsync(`127.0.0.1:${port}`, grpc.ServerCredentials.createInsecure(), (e) => (e ? reject(e) : resolve())));
    up.server = again;
    let value = '';
    const until = Date.now() + 10_000;
    while (value === '' && Date.now() < until) {
      value = await get(client, 'answer', new grpc.Metadata(), { deadline: Date.now() + 2000 }).then((r) => Buffer.from(r.value).toString(), () => '');
      if (value === '') await sleep(100);
    }
    assert.equal(value, 'back');
  });
});
