/**
 * `loopp call`'s pieces without a plugin process: the method argument and what it picks, the request
 * JSON (syntax errors with line and caret, JSON that does not fit a message), the replies' JSON, the
 * status with its details, and the reflection client against an in-process grpc-js server that serves
 * only grpc.reflection.v1alpha (the fallback), through to a call made from the fetched descriptors.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { create, createFileRegistry, fromBinary, toBinary, type FileRegistry } from '@bufbuild/protobuf';
import { AnySchema, FileDescriptorSetSchema } from '@bufbuild/protobuf/wkt';
import { BinaryWriter } from '@bufbuild/protobuf/wire';
import { UsageError } from '../../src/cli/args';
import { descriptorSource, NotDescribed } from '../../src/cli/call/descriptors';
import { invoke } from '../../src/cli/call/invoke';
import { fieldList, parseJsonText, replyJson, requestFrom } from '../../src/cli/call/json-io';
import { methodLine, parseMethodRef, pickMethod, pickService } from '../../src/cli/call/method';
import { openReflection, type ReflectionSession } from '../../src/cli/reflection-client';
import { formatStatus } from '../../src/cli/call/status';
import { ReflectionV1Service } from '../../src/gen';
import { ServiceCatalog } from '../../src/plugin/reflection/catalog';
import { splitDescriptorSet, describeFile } from '../../src/plugin/reflection/descriptors';
import { addReflection } from '../../src/plugin/reflection/service';
import { createHclogLogger } from '../../src/index';
import { fileDescriptorSet as examplesSet } from '../../fixtures/gen/descriptor-set';
import { KVService, type GetRequest, type GetResponse } from '../../fixtures/gen/examples/kv/kv';

const registry: FileRegistry = createFileRegistry(fromBinary(FileDescriptorSetSchema, examplesSet()));
const usage = (message: string | RegExp) => (err: unknown) => {
  assert.ok(err instanceof UsageError, String(err));
  if (typeof message === 'string') assert.equal(err.message, message);
  else assert.match(err.message, message);
  return true;
};

describe('loopp call: <service>/<method>', () => {
  it('takes service/method and service.method, with or without a leading slash', () => {
    assert.deepEqual(parseMethodRef('proto.KV/Get'), { service: 'proto.KV', method: 'Get' });
    assert.deepEqual(parseMethodRef('/proto.KV/Get'), { service: 'proto.KV', method: 'Get' });
    assert.deepEqual(parseMethodRef('proto.KV.Get'), { service: 'proto.KV', method: 'Get' });
    assert.deepEqual(parseMethodRef('KV/Get'), { service: 'KV', method: 'Get' });
    for (const bad of ['', 'Get', 'proto.KV/', 'proto KV/Get', 'proto.KV/Get/x', '{"key":1}']) {
      assert.throws(() => parseMethodRef(bad), usage(`${JSON.stringify(bad)} is not <service>/<method>, e.g. proto.KV/Get (the service's full name, with its package)`));
    }
  });

  it('picks the service by full name, or by its last part when only one has it; else lists them', async () => {
    const services = ['grpc.health.v1.Health', 'a.KV', 'b.KV', 'proto.Counter'];
    const asked: string[] = [];
    const list = (text: string) => async () => (asked.push(text), text);
    assert.equal(await pickService({ service: 'proto.Counter', method: 'x' }, services, list('never')), 'proto.Counter');
    assert.equal(await pickService({ service: 'Counter', method: 'x' }, services, list('never')), 'proto.Counter');
    assert.deepEqual(asked, [], 'the plugin is asked for the listing only on a miss');
    await assert.rejects(pickService({ service: 'KV', method: 'x' }, services, list('  a.KV: Get\n  b.KV: Get')), usage('KV is ambiguous (a.KV, b.KV): give the full name; it serves:\n  a.KV: Get\n  b.KV: Get'));
    await assert.rejects(pickService({ service: 'Nope', method: 'x' }, services, list('  the list')), usage('the plugin serves no service Nope; it serves:\n  the list'));
    // A suffix must be a whole name part.
    await assert.rejects(pickService({ service: 'ounter', method: 'x' }, services, list('L')), usage('the plugin serves no service ounter; it serves:\nL'));
  });

  it('picks the method exactly, or in any case when only one matches; lists the methods on a miss', () => {
    assert.equal(pickMethod(registry, 'proto.KV', { service: 'proto.KV', method: 'Get' }).name, 'Get');
    assert.equal(pickMethod(registry, 'proto.KV', { service: 'proto.KV', method: 'get' }).name, 'Get');
    assert.throws(
      () => pickMethod(registry, 'proto.KV', { service: 'proto.KV', method: 'Delete' }),
      usage('proto.KV has no method Delete; its methods:\n  Get(proto.GetRequest) returns (proto.GetResponse)\n  Put(proto.PutRequest) returns (proto.Empty)'),
    );
  });

  it('refuses client-streaming and bidi methods, which take more than one request', () => {
    const set = fromBinary(FileDescriptorSetSchema, examplesSet());
    const streaming = createFileRegistry(
      create(FileDescriptorSetSchema, {
        file: [
          ...set.file,
          {
            name: 'streams.proto',
            package: 's',
            syntax: 'proto3',
            dependency: ['examples/kv/kv.proto'],
            service: [
              {
                name: 'S',
                method: [
                  { name: 'Up', inputType: '.proto.GetRequest', outputType: '.proto.GetResponse', clientStreaming: true },
                  { name: 'Both', inputType: '.proto.GetRequest', outputType: '.proto.GetResponse', clientStreaming: true, serverStreaming: true },
                  { name: 'Down', inputType: '.proto.GetRequest', outputType: '.proto.GetResponse', serverStreaming: true },
                ],
              },
            ],
          },
        ],
      }),
    );
    assert.throws(
      () => pickMethod(streaming, 's.S', { service: 's.S', method: 'Up' }),
      usage('s.S/Up takes a stream of requests (client-streaming): loopp call sends one request, to unary and server-streaming methods'),
    );
    assert.throws(() => pickMethod(streaming, 's.S', { service: 's.S', method: 'Both' }), usage(/^s\.S\/Both takes a stream of requests \(bidi-streaming\)/));
    const down = pickMethod(streaming, 's.S', { service: 's.S', method: 'Down' });
    assert.equal(methodLine(down), 'Down(proto.GetRequest) returns (stream proto.GetResponse)');
  });
});

describe('loopp call: JSON in and out', () => {
  it('a syntax error says the line and column, with the line and a caret', () => {
    assert.throws(() => parseJsonText('{"key": "a",\n "x" 1}'), usage(/^the request is not JSON: .* \(line 2, column 6\)\n {3}"x" 1\}\n {7}\^$/));
    assert.throws(() => parseJsonText('{"key": '), usage(/^the request is not JSON: .* \(line 1, column 9\)\n {2}\{"key": \n {10}\^$/));
    assert.throws(() => parseJsonText(''), usage(/^the request is not JSON: .* \(line 1, column 1\)\n {2}\n {2}\^$/));
    assert.deepEqual(parseJsonText(' {"key": "a"} '), { key: 'a' });
  });

  it('JSON that does not fit names the field and lists the fields with their types', () => {
    const put = registry.getMessage('proto.PutRequest')!;
    assert.throws(
      () => requestFrom(put, { kye: 'a' }, registry),
      usage('the JSON does not fit proto.PutRequest: cannot decode message proto.PutRequest from JSON: key "kye" is unknown\n  proto.PutRequest has the fields: key (string), value (bytes, base64)'),
    );
    assert.throws(() => requestFrom(put, { value: 5 }, registry), usage(/^the JSON does not fit proto\.PutRequest: cannot decode field proto\.PutRequest\.value from JSON: .*5/));
    assert.throws(() => requestFrom(put, [1], registry), usage(/^the JSON does not fit proto\.PutRequest: /));
    assert.equal(fieldList(registry.getMessage('proto.CounterPutRequest')!), 'addServer (uint32), key (string), value (int64)');
    assert.equal(fieldList(registry.getMessage('proto.Empty')!), '(no fields: send {})');
    const msg = requestFrom(put, { key: 'a', value: 'aGk=' }, registry);
    assert.deepEqual((fromBinary(put, toBinary(put, msg)) as unknown as { value: Uint8Array }).value, new Uint8Array([0x68, 0x69]));
  });

  it('a reply is one line of JSON with every field, zero values too (int64 as a string)', () => {
    const counter = registry.getMessage('proto.CounterGetResponse')!;
    assert.equal(replyJson(counter, create(counter), registry), '{"value":"0"}');
    assert.equal(replyJson(counter, create(counter, { value: 42n } as never), registry), '{"value":"42"}');
    const get = registry.getMessage('proto.GetResponse')!;
    assert.equal(replyJson(get, create(get), registry), '{"value":""}');
  });
});

describe('loopp call: a failed call', () => {
  function statusBytes(code: number, message: string, details: { typeUrl: string; value: Uint8Array }[]): Uint8Array {
    const w = new BinaryWriter().uint32((1 << 3) | 0).int32(code).uint32((2 << 3) | 2).string(message);
    for (const d of details) w.uint32((3 << 3) | 2).bytes(toBinary(AnySchema, create(AnySchema, d)));
    return w.finish();
  }

  it('prints the code name and number, the message, and each detail as JSON (unknown types as base64)', () => {
    const metadata = new grpc.Metadata();
    const get = registry.getMessage('proto.GetRequest')!;
    metadata.set(
      'grpc-status-details-bin',
      Buffer.from(
        statusBytes(5, 'no such key', [
          { typeUrl: 'type.googleapis.com/proto.GetRequest', value: toBinary(get, create(get, { key: 'k' } as never)) },
          { typeUrl: 'type.googleapis.com/google.rpc.ErrorInfo', value: new Uint8Array([10, 1, 120]) },
        ]),
      ),
    );
    const err = Object.assign(new Error('5 NOT_FOUND: no such key'), { code: 5, details: 'no such key', metadata }) as grpc.ServiceError;
    assert.equal(
      formatStatus('proto.KV/Get', err, registry),
      'proto.KV/Get: NOT_FOUND (5): no such key\n' +
        '  detail: {"key":"k","@type":"type.googleapis.com/proto.GetRequest"}\n' +
        '  detail: {"@type":"type.googleapis.com/google.rpc.ErrorInfo","value":"CgF4"}\n',
    );
    const bad = new grpc.Metadata();
    bad.set('grpc-status-details-bin', Buffer.from([0xff]));
    const badErr = Object.assign(new Error('x'), { code: 13, details: 'boom', metadata: bad }) as grpc.ServiceError;
    assert.match(formatStatus('a.B/C', badErr, registry), /^a\.B\/C: INTERNAL \(13\): boom\n {2}detail: \(grpc-status-details-bin is not a google\.rpc\.Status: .+\)\n$/);
  });
});

describe('loopp call: reflection, v1alpha only (older servers)', () => {
  let server: grpc.Server;
  let channel: grpc.Channel;
  let session: ReflectionSession | undefined;
  before(async () => {
    server = new grpc.Server();
    const catalog = new ServiceCatalog();
    // The served surface minus grpc.reflection.v1.
    const noted = catalog.wrap(server);
    const alphaOnly = new Proxy(noted, {
      get: (target, key) =>
        key === 'addService'
          ? (service: grpc.ServiceDefinition, impl: grpc.UntypedServiceImplementation) => (service === ReflectionV1Service ? undefined : target.addService(service, impl))
          : (Reflect.get(target, key) as (...a: unknown[]) => unknown).bind(target),
    });
    alphaOnly.addService(KVService, {
      get: (call: grpc.ServerUnaryCall<GetRequest, GetResponse>, done: grpc.sendUnaryData<GetResponse>) =>
        call.request.key === 'missing' ? done({ code: grpc.status.NOT_FOUND, details: 'no such key' }) : done(null, { value: Buffer.from(`value of ${call.request.key}`) }),
      put: (_call: unknown, done: grpc.sendUnaryData<object>) => done(null, {}),
    });
    const files = splitDescriptorSet(examplesSet()).map((f) => describeFile(f));
    addReflection(alphaOnly, { catalog, files, logger: createHclogLogger({ write: () => undefined }) });
    const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))));
    channel = new grpc.Channel(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), {});
  });
  after(() => {
    session?.end();
    channel.close();
    server.forceShutdown();
  });

  it('falls back to v1alpha, lists the services, fetches the descriptors and makes the call', async () => {
    session = await openReflection(channel, new AbortController().signal);
    assert.equal(session.api, 'grpc.reflection.v1alpha');
    assert.deepEqual(session.services, ['grpc.reflection.v1alpha.ServerReflection', 'proto.KV']);
    const source = descriptorSource(session);
    const reg = await source.registryOf('proto.KV');
    await assert.rejects(source.registryOf('proto.Nope'), (e: unknown) => e instanceof NotDescribed && e.message === 'the plugin lists proto.Nope but does not describe it by reflection: fileContainingSymbol proto.Nope answered 5: symbol not found: proto.Nope');
    const method = pickMethod(reg, 'proto.KV', { service: 'KV', method: 'Get' });
    const replies: string[] = [];
    const call = (key: string) =>
      invoke(channel, method, toBinary(method.input, requestFrom(method.input, { key }, reg)), {
        signal: new AbortController().signal,
        onReply: (bytes) => replies.push(replyJson(method.output, fromBinary(method.output, bytes), reg)),
      });
    assert.deepEqual(await call('k'), { ok: true });
    assert.deepEqual(replies, [`{"value":"${Buffer.from('value of k').toString('base64')}"}`]);
    const failed = await call('missing');
    assert.equal(failed.ok, false);
    assert.equal(!failed.ok && formatStatus('proto.KV/Get', failed.error, reg), 'proto.KV/Get: NOT_FOUND (5): no such key\n');
  });
});
