/**
 * gRPC server reflection on TS plugins, seen by real clients: go-interop's reflect-probe-go (a
 * go-plugin v1.8.0 host that lists, resolves every service into a protodesc registry and calls
 * proto.KV with dynamicpb messages) against kv-plugin-ts on both server kinds, multiplexed, over
 * v1alpha, by name only, turned off, with proto-loader definitions, and against the TS relayer LOOP;
 * the same probe against the Go reference kv-plugin-go; and a TS reflection client on a loopp host's connection for the stream's
 * rules (imports sent once, errors, extensions, an empty request).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { fromBinary } from '@bufbuild/protobuf';
import { FileDescriptorProtoSchema } from '@bufbuild/protobuf/wkt';
import { grpcPlugin, startPlugin, type PluginClient } from '../../src/index';
import { LOOP_KINDS, asCmdEnv, newEnvConfig } from '../../src/loop/index';
import { ReflectionV1Service, reflectionV1Alpha, type ServerReflectionRequest, type ServerReflectionResponse } from '../../src/gen';
import { binary, childPids, fixture, goBinary, listDir, rmDir, run, shellCommand, tmpDir } from '../helpers';

let work: string;
let sockTmp: string;
before(() => {
  work = tmpDir('loopp-reflect-');
  sockTmp = tmpDir('loopp-reflect-tmp-');
});
after(() => {
  rmDir(work);
  rmDir(sockTmp);
});

/** What reflect-probe-go prints (see its main.go). */
interface ProbeReport {
  api: string;
  services: string[];
  listError?: { code: string; message: string };
  resolved: Record<string, { file: string; methods: string[] }>;
  notFound: Record<string, { code: string; message: string }>;
  symbols: Record<string, string>;
  files: string[];
  byFilenameMismatch: string[];
  registryError?: string;
  kv?: { get?: string; error?: string };
}

async function probe(plugin: string[], flags: string[] = [], env: Record<string, string> = {}): Promise<ProbeReport> {
  const r = await run(goBinary('reflect-probe-go'), flags, { cwd: work, env: { ...process.env, ...env, TMPDIR: sockTmp, PLUGIN_CMD: shellCommand(...plugin) }, timeoutMs: 30_000 });
  assert.equal(r.code, 0, r.stderr);
  assert.doesNotMatch(r.stderr, /\[ERROR\]|plugin failed to exit gracefully/);
  assert.deepEqual(listDir(sockTmp), [], 'no socket left behind');
  return JSON.parse(r.stdout) as ProbeReport;
}

/** Every service a plugin's main server serves, as Go's reflection lists them (sorted). */
const SERVICES = [
  'grpc.health.v1.Health',
  'grpc.reflection.v1.ServerReflection',
  'grpc.reflection.v1alpha.ServerReflection',
  'plugin.GRPCBroker',
  'plugin.GRPCController',
  'plugin.GRPCStdio',
  'proto.KV',
];

/** loopp's answers for its own services: file and methods. */
const LOOPP_RESOLVED = {
  'grpc.health.v1.Health': { file: 'grpc/health/v1/health.proto', methods: ['Check', 'Watch'] },
  'grpc.reflection.v1.ServerReflection': { file: 'grpc/reflection/v1/reflection.proto', methods: ['ServerReflectionInfo'] },
  'grpc.reflection.v1alpha.ServerReflection': { file: 'grpc/reflection/v1alpha/reflection.proto', methods: ['ServerReflectionInfo'] },
  'plugin.GRPCBroker': { file: 'plugin/grpc_broker.proto', methods: ['StartStream'] },
  'plugin.GRPCController': { file: 'plugin/grpc_controller.proto', methods: ['Shutdown'] },
  'plugin.GRPCStdio': { file: 'plugin/grpc_stdio.proto', methods: ['StreamStdio'] },
};
const KV_RESOLVED = { 'proto.KV': { file: 'examples/kv/kv.proto', methods: ['Get', 'Put'] } };

const LOOPP_FILES = [
  'google/protobuf/empty.proto',
  'grpc/health/v1/health.proto',
  'grpc/reflection/v1/reflection.proto',
  'grpc/reflection/v1alpha/reflection.proto',
  'plugin/grpc_broker.proto',
  'plugin/grpc_controller.proto',
  'plugin/grpc_stdio.proto',
];

/**
 * Symbols of every kind asked for by name, and the file that declares each: a method, a field, a
 * nested enum, an enum value (named beside its enum, protobuf's C++ scoping, so the second
 * STDERR name is unknown) and a message of the imports.
 */
const SYMBOLS = {
  'proto.KV.Get': 'examples/kv/kv.proto',
  'proto.GetRequest.key': 'examples/kv/kv.proto',
  'plugin.StdioData.Channel': 'plugin/grpc_stdio.proto',
  'plugin.StdioData.STDERR': 'plugin/grpc_stdio.proto',
  'google.protobuf.Empty': 'google/protobuf/empty.proto',
};
const SYMBOL_FLAGS = [...Object.keys(SYMBOLS), 'plugin.StdioData.Channel.STDERR', 'nope.Nothing'].flatMap((s) => ['-symbol', s]);

const NO_DESCRIPTOR_HINT =
  'symbol not found: proto.KV: service proto.KV is served without descriptors. Pass its FileDescriptorSet to ' +
  'servePlugin({ reflection: { descriptors } }) (buf build -o set.binpb, or protoc --include_imports --descriptor_set_out); ' +
  'see docs/plugin.md, "Reflection"';

describe('reflect-probe-go -> kv-plugin-ts', () => {
  for (const server of ['loopp', 'grpc-js'] as const) {
    it(`${server} server, AutoMTLS: every service listed, resolved and KV called from the descriptors alone`, async () => {
      const plugin = [binary('kv-plugin-ts'), ...(server === 'grpc-js' ? ['--grpc-js-server'] : [])];
      const r = await probe(plugin, ['-automtls', '-key', `ts-${server}`, ...SYMBOL_FLAGS]);
      assert.deepEqual(r, {
        api: 'v1',
        services: SERVICES,
        resolved: { ...LOOPP_RESOLVED, ...KV_RESOLVED },
        notFound: { 'nope.Nothing': { code: '5', message: 'symbol not found: nope.Nothing' }, 'plugin.StdioData.Channel.STDERR': { code: '5', message: 'symbol not found: plugin.StdioData.Channel.STDERR' } },
        symbols: SYMBOLS,
        files: ['examples/kv/kv.proto', ...LOOPP_FILES],
        byFilenameMismatch: [],
        kv: { get: 'written through reflection' },
      });
    });
  }

  it('multiplexed (GRPCBrokerMultiplex), plain: the same answers over the yamux connection', async () => {
    const r = await probe([binary('kv-plugin-ts')], ['-mux', '-key', 'ts-mux']);
    assert.deepEqual(r.services, SERVICES);
    assert.deepEqual(r.resolved, { ...LOOPP_RESOLVED, ...KV_RESOLVED });
    assert.deepEqual(r.kv, { get: 'written through reflection' });
  });

  for (const server of ['loopp', 'grpc-js'] as const) {
    it(`v1alpha, ${server} server: the same answers under the older name`, async () => {
      const plugin = [binary('kv-plugin-ts'), ...(server === 'grpc-js' ? ['--grpc-js-server'] : [])];
      const r = await probe(plugin, ['-api', 'v1alpha', '-automtls', '-key', `alpha-${server}`]);
      assert.equal(r.api, 'v1alpha');
      assert.deepEqual(r.services, SERVICES);
      assert.deepEqual(r.resolved, { ...LOOPP_RESOLVED, ...KV_RESOLVED });
      assert.deepEqual(r.files, ['examples/kv/kv.proto', ...LOOPP_FILES]);
      assert.deepEqual(r.kv, { get: 'written through reflection' });
    });
  }

  for (const server of ['loopp', 'grpc-js'] as const) {
    it(`a service without descriptors, ${server} server: listed by name, NOT_FOUND with the hint`, async () => {
      const plugin = [binary('kv-plugin-ts'), '--no-descriptors', ...(server === 'grpc-js' ? ['--grpc-js-server'] : [])];
      const r = await probe(plugin, ['-automtls']);
      assert.deepEqual(r.services, SERVICES);
      assert.deepEqual(r.resolved, LOOPP_RESOLVED);
      assert.deepEqual(r.notFound, { 'proto.KV': { code: '5', message: NO_DESCRIPTOR_HINT } });
      assert.deepEqual(r.files, LOOPP_FILES);
      assert.equal(r.kv, undefined);
    });
  }

  for (const api of ['v1', 'v1alpha']) {
    for (const server of ['loopp', 'grpc-js'] as const) {
      it(`turned off (reflection: false), ${api}, ${server} server: UNIMPLEMENTED`, async () => {
        const plugin = [binary('kv-plugin-ts'), '--no-reflection', ...(server === 'grpc-js' ? ['--grpc-js-server'] : [])];
        const r = await probe(plugin, ['-api', api]);
        assert.deepEqual(r.listError, { code: 'Unimplemented', message: `The server does not implement the method /grpc.reflection.${api}.ServerReflection/ServerReflectionInfo` });
        assert.deepEqual(r.services, []);
      });
    }
  }

  it('a @grpc/proto-loader service is described from its own definition (proto-loader names the file after the package)', async () => {
    const r = await probe([process.execPath, fixture('proto-loader-kv')], ['-automtls', '-key', 'loader']);
    assert.deepEqual(r.services, SERVICES);
    assert.deepEqual(r.resolved, { ...LOOPP_RESOLVED, 'proto.KV': { file: 'proto.proto', methods: ['Get', 'Put'] } });
    assert.deepEqual(r.files, [...LOOPP_FILES, 'proto.proto']);
    assert.deepEqual(r.kv, { get: 'written through reflection' });
  });
});

describe('reflect-probe-go -> relayer-loop-ts (a LOOP: loopp describes the LOOP services too)', () => {
  it('loop.PluginRelayer and loop.Service resolve, with every file they import', async () => {
    const { handshake } = LOOP_KINDS.relayer;
    const env = Object.fromEntries(asCmdEnv(newEnvConfig({ prometheusPort: 0 })));
    const r = await probe([binary('relayer-loop-ts')], ['-automtls', '-cookie', `${handshake.magicCookieKey}=${handshake.magicCookieValue}`, '-app-version', '0'], env);
    assert.deepEqual(r.services, ['grpc.health.v1.Health', 'grpc.reflection.v1.ServerReflection', 'grpc.reflection.v1alpha.ServerReflection', 'loop.PluginRelayer', 'loop.Service', 'plugin.GRPCBroker', 'plugin.GRPCController', 'plugin.GRPCStdio']);
    assert.deepEqual(r.resolved, {
      ...LOOPP_RESOLVED,
      'loop.PluginRelayer': { file: 'loop/relayer.proto', methods: ['NewRelayer'] },
      'loop.Service': { file: 'loop/relayer.proto', methods: ['Name', 'Ready', 'HealthReport'] },
    });
    assert.deepEqual(r.files, [
      'codec/codec.proto',
      'google/protobuf/empty.proto',
      'google/protobuf/struct.proto',
      'grpc/health/v1/health.proto',
      'grpc/reflection/v1/reflection.proto',
      'grpc/reflection/v1alpha/reflection.proto',
      'loop/chain/common/query.proto',
      'loop/contract_reader.proto',
      'loop/relayer.proto',
      'plugin/grpc_broker.proto',
      'plugin/grpc_controller.proto',
      'plugin/grpc_stdio.proto',
    ]);
    assert.deepEqual(r.notFound, {});
    assert.equal(r.kv, undefined);
  });
});

describe('reflect-probe-go -> kv-plugin-go (the Go reference)', () => {
  for (const api of ['v1', 'v1alpha']) {
    it(`${api}: the same services as the TS plugin; Go's health has List, its plugin protos live under internal/`, async () => {
      const r = await probe([goBinary('kv-plugin-go')], ['-api', api, '-automtls', '-key', `go-${api}`, ...SYMBOL_FLAGS]);
      assert.deepEqual(r.services, SERVICES);
      assert.deepEqual(r.resolved, {
        ...LOOPP_RESOLVED,
        'grpc.health.v1.Health': { file: 'grpc/health/v1/health.proto', methods: ['Check', 'List', 'Watch'] },
        'plugin.GRPCBroker': { file: 'internal/plugin/grpc_broker.proto', methods: ['StartStream'] },
        'plugin.GRPCController': { file: 'internal/plugin/grpc_controller.proto', methods: ['Shutdown'] },
        'plugin.GRPCStdio': { file: 'internal/plugin/grpc_stdio.proto', methods: ['StreamStdio'] },
        ...KV_RESOLVED,
      });
      assert.deepEqual(r.symbols, { ...SYMBOLS, 'plugin.StdioData.Channel': 'internal/plugin/grpc_stdio.proto', 'plugin.StdioData.STDERR': 'internal/plugin/grpc_stdio.proto' });
      // Go's answer for an unknown symbol is protoregistry's error text.
      assert.deepEqual(r.notFound, { 'nope.Nothing': { code: '5', message: 'proto: not found' }, 'plugin.StdioData.Channel.STDERR': { code: '5', message: 'proto: not found' } });
      assert.deepEqual(r.byFilenameMismatch, []);
      assert.deepEqual(r.kv, { get: 'written through reflection\n\nWritten from plugin-go-grpc' });
    });
  }
});

/** One reflection stream of a TS client: each request answered in order. */
class Session {
  readonly #stream: grpc.ClientDuplexStream<ServerReflectionRequest, ServerReflectionResponse>;
  readonly #waiting: { resolve: (r: ServerReflectionResponse) => void; reject: (e: Error) => void }[] = [];
  readonly ended: Promise<grpc.StatusObject>;

  constructor(client: grpc.Client) {
    this.#stream = (client as unknown as { serverReflectionInfo(): grpc.ClientDuplexStream<ServerReflectionRequest, ServerReflectionResponse> }).serverReflectionInfo();
    this.#stream.on('data', (r: ServerReflectionResponse) => this.#waiting.shift()?.resolve(r));
    this.#stream.on('error', (e: Error) => {
      for (const w of this.#waiting.splice(0)) w.reject(e);
    });
    this.ended = new Promise((resolve) => this.#stream.on('status', resolve));
  }

  ask(messageRequest: ServerReflectionRequest['messageRequest'], host = ''): Promise<ServerReflectionResponse> {
    return new Promise((resolve, reject) => {
      this.#waiting.push({ resolve, reject });
      this.#stream.write({ host, messageRequest });
    });
  }

  /** The names of the files of a file_descriptor_response, in order. */
  async fileNames(messageRequest: ServerReflectionRequest['messageRequest']): Promise<string[]> {
    const r = await this.ask(messageRequest);
    assert.equal(r.messageResponse?.$case, 'fileDescriptorResponse', JSON.stringify(r.messageResponse));
    return r.messageResponse.value.fileDescriptorProto.map((b) => fromBinary(FileDescriptorProtoSchema, b).name);
  }

  end(): void {
    this.#stream.end();
  }
}

type ReflectionPlugins = { reflect: ReturnType<typeof reflectPlugin> };
function reflectPlugin() {
  // v1alpha through its own generated definition: the server answers it with v1's codecs.
  return grpcPlugin({ client: ({ createClient }) => ({ v1: createClient(ReflectionV1Service), v1alpha: createClient(reflectionV1Alpha().ServerReflectionService) }) });
}

describe('a TS reflection client on a loopp host connection -> kv-plugin-ts', () => {
  let p: PluginClient<ReflectionPlugins> | undefined;
  after(async () => {
    await p?.close();
    assert.deepEqual(childPids(), []);
  });

  for (const server of ['loopp', 'grpc-js'] as const) {
    it(`${server} server: v1 and v1alpha answer list_services alike, echoing host and request`, async () => {
      await p?.close();
      p = await startPlugin({
        command: binary('kv-plugin-ts'),
        args: server === 'grpc-js' ? ['--grpc-js-server'] : [],
        cwd: work,
        handshake: { protocolVersion: 1, magicCookieKey: 'BASIC_PLUGIN', magicCookieValue: 'hello' },
        plugins: { reflect: reflectPlugin() },
        autoMTLS: true,
      });
      const clients = p.dispense('reflect');
      for (const client of [clients.v1, clients.v1alpha]) {
        const s = new Session(client);
        const r = await s.ask({ $case: 'listServices', value: '*' }, 'some-host');
        assert.deepEqual(r, {
          validHost: 'some-host',
          originalRequest: { host: 'some-host', messageRequest: { $case: 'listServices', value: '*' } },
          messageResponse: { $case: 'listServicesResponse', value: { service: SERVICES.map((name) => ({ name })) } },
        });
        s.end();
        assert.equal((await s.ended).code, grpc.status.OK);
      }
    });
  }

  it('a stream sends each import once; the file asked for always', async () => {
    const s = new Session((p as PluginClient<ReflectionPlugins>).dispense('reflect').v1);
    assert.deepEqual(await s.fileNames({ $case: 'fileContainingSymbol', value: 'plugin.GRPCStdio' }), ['plugin/grpc_stdio.proto', 'google/protobuf/empty.proto']);
    assert.deepEqual(await s.fileNames({ $case: 'fileContainingSymbol', value: 'plugin.StdioData' }), ['plugin/grpc_stdio.proto']);
    assert.deepEqual(await s.fileNames({ $case: 'fileByFilename', value: 'google/protobuf/empty.proto' }), ['google/protobuf/empty.proto']);
    // A new stream starts afresh.
    const fresh = new Session((p as PluginClient<ReflectionPlugins>).dispense('reflect').v1alpha);
    assert.deepEqual(await fresh.fileNames({ $case: 'fileContainingSymbol', value: 'plugin.StdioData.Channel' }), ['plugin/grpc_stdio.proto', 'google/protobuf/empty.proto']);
    s.end();
    fresh.end();
  });

  it('unknown files, symbols and extensions: NOT_FOUND answers, and the stream goes on', async () => {
    const s = new Session((p as PluginClient<ReflectionPlugins>).dispense('reflect').v1);
    const answer = async (req: ServerReflectionRequest['messageRequest']) => (await s.ask(req)).messageResponse;
    const notFound = (errorMessage: string) => ({ $case: 'errorResponse', value: { errorCode: grpc.status.NOT_FOUND, errorMessage } });
    assert.deepEqual(await answer({ $case: 'fileByFilename', value: 'nope.proto' }), notFound('file not found: nope.proto'));
    assert.deepEqual(await answer({ $case: 'fileContainingSymbol', value: 'proto.KV.Nope' }), notFound('symbol not found: proto.KV.Nope'));
    assert.deepEqual(await answer({ $case: 'fileContainingExtension', value: { containingType: 'proto.GetRequest', extensionNumber: 100 } }), notFound('extension not found: proto.GetRequest field 100'));
    assert.deepEqual(await answer({ $case: 'allExtensionNumbersOfType', value: 'proto.Nope' }), notFound('message type not found: proto.Nope'));
    assert.deepEqual(await answer({ $case: 'allExtensionNumbersOfType', value: 'proto.GetRequest' }), {
      $case: 'allExtensionNumbersResponse',
      value: { baseTypeName: 'proto.GetRequest', extensionNumber: [] },
    });
    assert.deepEqual(await s.fileNames({ $case: 'fileContainingSymbol', value: 'proto.KV' }), ['examples/kv/kv.proto']);
    s.end();
  });

  it('a request without a message_request ends the stream with INVALID_ARGUMENT, as Go\'s server does', async () => {
    const s = new Session((p as PluginClient<ReflectionPlugins>).dispense('reflect').v1);
    await assert.rejects(s.ask(undefined), (e: grpc.ServiceError) => e.code === grpc.status.INVALID_ARGUMENT && e.details === 'invalid MessageRequest: none set');
    assert.equal((await s.ended).code, grpc.status.INVALID_ARGUMENT);
    // The plugin serves on.
    const next = new Session((p as PluginClient<ReflectionPlugins>).dispense('reflect').v1);
    assert.deepEqual(await next.fileNames({ $case: 'fileByFilename', value: 'examples/kv/kv.proto' }), ['examples/kv/kv.proto']);
    next.end();
  });
});
