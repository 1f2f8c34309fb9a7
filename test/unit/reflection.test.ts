/**
 * Reflection's pieces without a server: what the wire reader finds in a FileDescriptorProto (every
 * kind of declaration, scoped as protobuf scopes them), servePlugin's `reflection` option and its
 * errors, the file index (first wins, imports once per stream) and the service catalog.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { create, toBinary } from '@bufbuild/protobuf';
import { FileDescriptorProtoSchema, FileDescriptorSetSchema, type FileDescriptorProto } from '@bufbuild/protobuf/wkt';
import { ConfigError } from '../../src/core/errors';
import { shippedDescriptorSet } from '../../src/gen';
import { createGrpcServer } from '../../src/net/h2server/server';
import { ServiceCatalog } from '../../src/plugin/reflection/catalog';
import { describeFile, splitDescriptorSet, type DescribedFile } from '../../src/plugin/reflection/descriptors';
import { FileIndex } from '../../src/plugin/reflection/file-index';
import { readDescriptors, reflectionSetting } from '../../src/plugin/reflection/options';
import { KVService } from '../../fixtures/gen/examples/kv/kv';
import { fileDescriptorSet as examplesSet } from '../../fixtures/gen/descriptor-set';

/** A file with one declaration of every kind. */
function everyKind(pkg: string): FileDescriptorProto {
  return create(FileDescriptorProtoSchema, {
    name: 'kinds.proto',
    package: pkg,
    dependency: ['google/protobuf/empty.proto'],
    messageType: [
      {
        name: 'M',
        field: [{ name: 'f', number: 1 }],
        oneofDecl: [{ name: 'choice' }],
        nestedType: [{ name: 'N', enumType: [{ name: 'E', value: [{ name: 'E_X', number: 0 }] }] }],
        extension: [{ name: 'inner_ext', number: 101, extendee: `.${pkg ? `${pkg}.` : ''}M` }],
        extensionRange: [{ start: 100, end: 200 }],
      },
    ],
    enumType: [{ name: 'T', value: [{ name: 'T_A', number: 0 }, { name: 'T_B', number: 1 }] }],
    service: [{ name: 'S', method: [{ name: 'Do', inputType: '.google.protobuf.Empty', outputType: '.google.protobuf.Empty' }] }],
    extension: [{ name: 'outer_ext', number: 100, extendee: `.${pkg ? `${pkg}.` : ''}M` }],
  });
}

const asSet = (...files: FileDescriptorProto[]): Uint8Array => toBinary(FileDescriptorSetSchema, create(FileDescriptorSetSchema, { file: files }));

const described = (name: string, dependencies: string[] = [], symbols: string[] = []): DescribedFile => ({
  name,
  bytes: new TextEncoder().encode(name),
  dependencies,
  symbols,
  extensions: [],
});

describe('describeFile', () => {
  it('names every declaration as protobuf scopes it (enum values beside their enum)', () => {
    const bytes = toBinary(FileDescriptorProtoSchema, everyKind('a.b'));
    const f = describeFile(bytes);
    assert.equal(f.name, 'kinds.proto');
    assert.equal(f.bytes, bytes);
    assert.deepEqual(f.dependencies, ['google/protobuf/empty.proto']);
    assert.deepEqual(f.symbols, ['a.b.M', 'a.b.M.f', 'a.b.M.N', 'a.b.M.N.E', 'a.b.M.N.E_X', 'a.b.M.inner_ext', 'a.b.M.choice', 'a.b.T', 'a.b.T_A', 'a.b.T_B', 'a.b.S', 'a.b.S.Do', 'a.b.outer_ext']);
    assert.deepEqual(f.extensions, [
      { extendee: 'a.b.M', number: 101 },
      { extendee: 'a.b.M', number: 100 },
    ]);
  });

  it('a file without a package declares unqualified names', () => {
    const f = describeFile(toBinary(FileDescriptorProtoSchema, everyKind('')));
    assert.deepEqual(f.symbols.slice(0, 3), ['M', 'M.f', 'M.N']);
    assert.deepEqual(f.symbols.at(-1), 'outer_ext');
  });

  it('reads the FileDescriptorSets make proto embeds', () => {
    const names = splitDescriptorSet(examplesSet()).map((b) => describeFile(b).name);
    assert.deepEqual(names, ['examples/brokertest/brokertest.proto', 'examples/kv/kv.proto', 'examples/counter/counter.proto', 'fixtures/faults.proto']);
    const shipped = splitDescriptorSet(shippedDescriptorSet()).map((b) => describeFile(b));
    const health = shipped.find((f) => f.name === 'grpc/health/v1/health.proto');
    assert.deepEqual(health?.symbols, [
      'grpc.health.v1.HealthCheckRequest',
      'grpc.health.v1.HealthCheckRequest.service',
      'grpc.health.v1.HealthCheckResponse',
      'grpc.health.v1.HealthCheckResponse.status',
      'grpc.health.v1.HealthCheckResponse.ServingStatus',
      'grpc.health.v1.HealthCheckResponse.UNKNOWN',
      'grpc.health.v1.HealthCheckResponse.SERVING',
      'grpc.health.v1.HealthCheckResponse.NOT_SERVING',
      'grpc.health.v1.HealthCheckResponse.SERVICE_UNKNOWN',
      'grpc.health.v1.Health',
      'grpc.health.v1.Health.Check',
      'grpc.health.v1.Health.Watch',
    ]);
    for (const name of ['plugin/grpc_broker.proto', 'grpc/reflection/v1/reflection.proto', 'grpc/reflection/v1alpha/reflection.proto', 'loop/relayer.proto', 'google/protobuf/empty.proto']) {
      assert.ok(shipped.some((f) => f.name === name), `${name} is shipped`);
    }
  });

  it('refuses what is not a FileDescriptorProto', () => {
    assert.throws(() => describeFile(new Uint8Array([0x12, 0x01, 0x61])), /a FileDescriptorProto without a name \(field 1\)/);
    assert.throws(() => describeFile(new Uint8Array([0x0a, 0x05, 0x61])), /premature EOF|out of range/);
    assert.throws(() => describeFile(new Uint8Array([0x08, 0x01])), /field 1 has wire type 0, not length-delimited/);
    assert.throws(() => describeFile(new Uint8Array([0x0a, 0x02, 0xc3, 0x28])), /not valid|invalid|encoded data/i);
  });

  it('refuses messages nested deeper than protoc allows (100)', () => {
    let message = new Uint8Array(0);
    // DescriptorProto { name: "m", nested_type: <message> } built from the inside out, 101 deep.
    for (let i = 0; i < 101; i++) message = Uint8Array.from([0x0a, 0x01, 0x6d, ...(i === 0 ? [] : [0x1a, ...varint(message.length), ...message])]);
    const file = Uint8Array.from([0x0a, 0x01, 0x78, 0x22, ...varint(message.length), ...message]);
    assert.throws(() => describeFile(file), /messages nested deeper than 100/);
  });
});

function varint(n: number): number[] {
  const out: number[] = [];
  for (; n >= 0x80; n >>>= 7) out.push((n & 0x7f) | 0x80);
  out.push(n);
  return out;
}

describe("servePlugin's reflection option", () => {
  const bad = (fn: () => unknown, code: string, message: string) =>
    assert.throws(fn, (e: unknown) => {
      assert.ok(e instanceof ConfigError, String(e));
      assert.equal(e.code, code);
      assert.equal(e.message, message);
      assert.equal(typeof e.hint, 'string');
      return true;
    });

  it('is on by default, off with false', () => {
    assert.deepEqual(reflectionSetting(undefined), { enabled: true, files: [] });
    assert.deepEqual(reflectionSetting(true), { enabled: true, files: [] });
    assert.deepEqual(reflectionSetting({}), { enabled: true, files: [] });
    assert.deepEqual(reflectionSetting(false), { enabled: false });
  });

  it('takes a FileDescriptorSet and a list of serialized files alike', () => {
    const file = everyKind('a.b');
    const fromSet = readDescriptors(asSet(file));
    assert.deepEqual(readDescriptors([toBinary(FileDescriptorProtoSchema, file)]), fromSet);
    assert.deepEqual(fromSet.map((f) => f.name), ['kinds.proto']);
  });

  it('says what is wrong, with ERR_LOOPP_DESCRIPTORS', () => {
    const single = toBinary(FileDescriptorProtoSchema, everyKind('a.b'));
    bad(() => readDescriptors(single), 'ERR_LOOPP_DESCRIPTORS', 'reflection.descriptors: the FileDescriptorSet does not decode: field 2: a FileDescriptorSet has field 1 only (is this a single FileDescriptorProto?)');
    bad(() => readDescriptors(new Uint8Array(0)), 'ERR_LOOPP_DESCRIPTORS', 'reflection.descriptors: the FileDescriptorSet holds no file');
    bad(() => readDescriptors(new Uint8Array([1, 2, 3])), 'ERR_LOOPP_DESCRIPTORS', 'reflection.descriptors: the FileDescriptorSet does not decode: illegal tag: field no 0 wire type 1');
    bad(() => readDescriptors(Uint8Array.from([0x0a, 0x03, 0x12, 0x01, 0x61])), 'ERR_LOOPP_DESCRIPTORS', 'reflection.descriptors: file 0 of the FileDescriptorSet does not decode: a FileDescriptorProto without a name (field 1)');
    bad(() => readDescriptors([single, 'kinds.proto' as never]), 'ERR_LOOPP_DESCRIPTORS', 'reflection.descriptors[1]: expected a Uint8Array (a serialized FileDescriptorProto), got string');
    bad(() => readDescriptors([everyKind('a.b') as never]), 'ERR_LOOPP_DESCRIPTORS', 'reflection.descriptors[0]: expected a Uint8Array (a serialized FileDescriptorProto), got an object (Object)');
    bad(() => readDescriptors({ file: [] } as never), 'ERR_LOOPP_DESCRIPTORS', 'reflection.descriptors: expected a Uint8Array or an array, got an object (Object)');
    bad(() => reflectionSetting('on' as never), 'ERR_LOOPP_CONFIG', 'servePlugin: reflection must be an object or a boolean, got string');
  });
});

describe('FileIndex', () => {
  it('keeps the first file of a name and the first declaration of a symbol', () => {
    const index = new FileIndex();
    const first = described('a.proto', [], ['p.A']);
    assert.equal(index.add(first), true);
    assert.equal(index.add(described('a.proto', [], ['p.Other'])), false);
    assert.equal(index.add(described('b.proto', [], ['p.A', 'p.B'])), true);
    assert.equal(index.byName('a.proto'), first);
    assert.equal(index.declaring('p.A'), first);
    assert.equal(index.declaring('p.B')?.name, 'b.proto');
    assert.equal(index.declaring('p.Other'), undefined);
  });

  it('sends imports breadth first, once per stream, skipping unknown ones and surviving cycles', () => {
    const index = new FileIndex();
    for (const f of [described('root', ['a', 'b']), described('a', ['c', 'missing']), described('b', ['c']), described('c', ['root'])]) index.add(f);
    const text = (bs: Uint8Array[]) => bs.map((b) => new TextDecoder().decode(b));
    const sent = new Set<string>();
    assert.deepEqual(text(index.withImports(index.byName('root') as DescribedFile, sent)), ['root', 'a', 'b', 'c']);
    assert.deepEqual(text(index.withImports(index.byName('a') as DescribedFile, sent)), ['a']);
    assert.deepEqual(text(index.withImports(index.byName('b') as DescribedFile, new Set())), ['b', 'c', 'root', 'a']);
    assert.deepEqual(index.missingImports(), [{ file: 'a', missing: 'missing' }]);
  });

  it('extension numbers: sorted, [] for a message without any, undefined for an unknown one', () => {
    const index = new FileIndex();
    index.add(describeFile(toBinary(FileDescriptorProtoSchema, everyKind('a.b'))));
    assert.deepEqual(index.extensionNumbers('a.b.M'), [100, 101]);
    assert.deepEqual(index.extensionNumbers('a.b.T'), []);
    assert.equal(index.extensionNumbers('a.b.Nope'), undefined);
    assert.equal(index.extending('a.b.M', 101)?.name, 'kinds.proto');
    assert.equal(index.extending('a.b.M', 102), undefined);
  });
});

describe('ServiceCatalog', () => {
  it('lists the services added through it, sorted, and forgets removed ones', () => {
    const catalog = new ServiceCatalog();
    const server = catalog.wrap(createGrpcServer());
    server.addService(KVService, {});
    assert.equal(server.register('/z.Z/Call', () => {}, (v: Buffer) => v, (v: Buffer) => v, 'unary'), true);
    assert.equal(server.register('not a path', () => {}, (v: Buffer) => v, (v: Buffer) => v, 'unary'), true);
    assert.deepEqual(catalog.services(), ['proto.KV', 'z.Z']);
    server.removeService(KVService);
    assert.equal(server.unregister('/z.Z/Call'), true);
    assert.deepEqual(catalog.services(), []);
    assert.equal(catalog.loaderGeneration, 0);
  });

  it('keeps the descriptors @grpc/proto-loader attaches to its definitions', () => {
    const catalog = new ServiceCatalog();
    const server = catalog.wrap(createGrpcServer());
    const files = [Buffer.from('one'), Buffer.from('two')];
    const method = { ...KVService.get, requestType: { fileDescriptorProtos: files }, responseType: { fileDescriptorProtos: files } };
    server.addService({ get: method } as unknown as grpc.ServiceDefinition, {});
    assert.equal(catalog.loaderGeneration, 1);
    assert.deepEqual(catalog.loaderFiles(), files);
  });
});
