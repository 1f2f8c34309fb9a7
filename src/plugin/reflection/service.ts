/**
 * grpc.reflection.v1.ServerReflection and its older name v1alpha on the plugin's main server, as
 * go-plugin's Go server registers them (google.golang.org/grpc/reflection): the services served,
 * and the descriptors of loopp's own protos, of the application's (servePlugin's `reflection`) and of
 * @grpc/proto-loader services. Written on the generated messages rather than taken from
 * @grpc/reflection, which needs protobufjs, proto-loader and google-protobuf at run time and lists
 * the services of its package definition instead of those the server serves (docs/plugin.md).
 *
 * Nothing is decoded until the first request: the index of files is built then (loopp's 20 files,
 * 28 KB, 710 names: about 6 ms in a fresh process, mostly JIT warm-up; 0.4 ms once warm) and again
 * only when a proto-loader service brought new descriptors.
 */
import * as grpc from '@grpc/grpc-js';
import { messageOf } from '../../core/errors';
import { ReflectionV1Service, shippedDescriptorSet, type ServerReflectionRequest, type ServerReflectionResponse } from '../../gen';
import type { GrpcServer } from '../../net/h2server/server';
import type { HclogLogger } from '../../wire/hclog';
import type { ServiceCatalog } from './catalog';
import { describeFile, splitDescriptorSet, type DescribedFile } from './descriptors';
import { FileIndex } from './file-index';

export interface ReflectionSources {
  catalog: ServiceCatalog;
  /** The application's files (servePlugin's `reflection.descriptors`), already checked. */
  files: readonly DescribedFile[];
  logger: HclogLogger;
}

type Answer = ServerReflectionResponse['messageResponse'];

const NOT_FOUND = grpc.status.NOT_FOUND;

/** v1alpha: v1's methods and codecs (the messages are the same) under the older package's paths. */
const ReflectionV1AlphaService: grpc.ServiceDefinition = Object.fromEntries(
  Object.entries(ReflectionV1Service).map(([name, m]) => [name, { ...m, path: m.path.replace('/grpc.reflection.v1.', '/grpc.reflection.v1alpha.') }]),
);

/** Adds both reflection services to `server`. */
export function addReflection(server: GrpcServer, sources: ReflectionSources): void {
  const index = lazyIndex(sources);
  const handler = (call: grpc.ServerDuplexStream<ServerReflectionRequest, ServerReflectionResponse>): void => serveStream(call, sources.catalog, index);
  server.addService(ReflectionV1Service, { serverReflectionInfo: handler });
  server.addService(ReflectionV1AlphaService, { serverReflectionInfo: handler });
}

/** One client session: each request answered in order; files sent on it are not sent again as imports. */
function serveStream(call: grpc.ServerDuplexStream<ServerReflectionRequest, ServerReflectionResponse>, catalog: ServiceCatalog, index: () => FileIndex): void {
  const sent = new Set<string>();
  let ended = false;
  call.on('data', (request: ServerReflectionRequest) => {
    if (ended) return;
    const answer = respond(request, catalog, index, sent);
    if (answer === undefined) {
      ended = true;
      call.emit('error', { code: grpc.status.INVALID_ARGUMENT, details: 'invalid MessageRequest: none set' });
      return;
    }
    const more = call.write({ validHost: request.host, originalRequest: request, messageResponse: answer });
    // A client that only writes must not make us buffer without bound.
    if (!more) {
      call.pause();
      call.once('drain', () => call.resume());
    }
  });
  call.on('end', () => {
    if (!ended) call.end();
    ended = true;
  });
  call.on('error', () => {
    ended = true;
  });
}

function respond(request: ServerReflectionRequest, catalog: ServiceCatalog, index: () => FileIndex, sent: Set<string>): Answer | undefined {
  const r = request.messageRequest;
  switch (r?.$case) {
    case 'listServices':
      return { $case: 'listServicesResponse', value: { service: catalog.services().map((name) => ({ name })) } };
    case 'fileByFilename':
      return files(index(), index().byName(r.value), sent, `file not found: ${r.value}`);
    case 'fileContainingSymbol':
      return files(index(), index().declaring(r.value), sent, symbolNotFound(r.value, catalog, index()));
    case 'fileContainingExtension': {
      const { containingType, extensionNumber } = r.value;
      return files(index(), index().extending(containingType, extensionNumber), sent, `extension not found: ${containingType} field ${extensionNumber}`);
    }
    case 'allExtensionNumbersOfType': {
      const numbers = index().extensionNumbers(r.value);
      if (numbers === undefined) return error(NOT_FOUND, `message type not found: ${r.value}`);
      return { $case: 'allExtensionNumbersResponse', value: { baseTypeName: r.value, extensionNumber: numbers } };
    }
    default:
      return undefined;
  }
}

function files(index: FileIndex, file: DescribedFile | undefined, sent: Set<string>, notFound: string): Answer {
  if (file === undefined) return error(NOT_FOUND, notFound);
  const protos = index.withImports(file, sent).map((b) => Buffer.from(b.buffer, b.byteOffset, b.byteLength));
  return { $case: 'fileDescriptorResponse', value: { fileDescriptorProto: protos } };
}

/** Unknown symbols of a service served without descriptors say how to describe it. */
function symbolNotFound(symbol: string, catalog: ServiceCatalog, index: FileIndex): string {
  const service = catalog.services().find((s) => symbol === s || symbol.startsWith(`${s}.`));
  if (service === undefined || index.declaring(service) !== undefined) return `symbol not found: ${symbol}`;
  return (
    `symbol not found: ${symbol}: service ${service} is served without descriptors. ` +
    'Pass its FileDescriptorSet to servePlugin({ reflection: { descriptors } }) (buf build -o set.binpb, ' +
    'or protoc --include_imports --descriptor_set_out); see docs/plugin.md, "Reflection"'
  );
}

function error(code: grpc.status, message: string): Answer {
  return { $case: 'errorResponse', value: { errorCode: code, errorMessage: message } };
}

/** The index, built at the first request and rebuilt when proto-loader services brought new files. */
function lazyIndex(sources: ReflectionSources): () => FileIndex {
  let built: { generation: number; index: FileIndex } | undefined;
  return () => {
    const generation = sources.catalog.loaderGeneration;
    if (built === undefined || built.generation !== generation) built = { generation, index: buildIndex(sources) };
    return built.index;
  };
}

/** loopp's own files first (they describe the services loopp serves), then the application's, then proto-loader's. */
function buildIndex(sources: ReflectionSources): FileIndex {
  const index = new FileIndex();
  for (const bytes of splitDescriptorSet(shippedDescriptorSet())) index.add(describeFile(bytes));
  for (const f of sources.files) index.add(f);
  for (const bytes of sources.catalog.loaderFiles()) {
    try {
      index.add(describeFile(bytes));
    } catch (err) {
      sources.logger.warn('reflection: a @grpc/proto-loader descriptor does not decode, left out', { error: messageOf(err) });
    }
  }
  for (const m of index.missingImports()) {
    sources.logger.warn('reflection: an import is described nowhere; clients cannot build the file', { file: m.file, import: m.missing });
  }
  return index;
}
