/**
 * servePlugin's `reflection` option: on or off, and the descriptors of the application's services,
 * checked when the plugin starts so a wrong value fails there and not in some later grpcurl session.
 */
import { ConfigError, messageOf } from '../../core/errors';
import { describeFile, splitDescriptorSet, type DescribedFile } from './descriptors';

/**
 * gRPC server reflection on the plugin's main server (servePlugin's `reflection`).
 *
 * loopp's own services (health, controller, stdio, broker, reflection, the LOOP services) are always
 * described. The application's services are listed by name; clients can call them only with their
 * descriptors, given here or, for services loaded with `@grpc/proto-loader`, taken from the service
 * definitions themselves.
 */
export interface ReflectionOptions {
  /**
   * Descriptors of the application's services and of everything they import:
   * - a serialized `google.protobuf.FileDescriptorSet` (a `Uint8Array`): `buf build -o set.binpb`,
   *   `protoc --include_imports --descriptor_set_out=set.binpb`, `grpc_tools_node_protoc` likewise;
   * - or a list of serialized `google.protobuf.FileDescriptorProto`s (e.g. ts-proto's `outputSchema`
   *   or protobuf-es's `file_<name>.proto`, encoded: see docs/plugin.md).
   *
   * A file of the same name as one of loopp's own protos is ignored (loopp's wins). Imports that
   * neither these descriptors nor loopp's own provide are logged as a warning at the first
   * reflection request; clients then cannot build the files that need them.
   */
  descriptors?: Uint8Array | readonly Uint8Array[];
}

/** The reflection setting after checking: off, or on with the application's files. */
export type ReflectionSetting = { readonly enabled: false } | { readonly enabled: true; readonly files: readonly DescribedFile[] };

const HINT =
  'Pass a serialized FileDescriptorSet (buf build -o set.binpb; protoc --include_imports --descriptor_set_out=set.binpb) ' +
  'or an array of serialized FileDescriptorProtos. See docs/plugin.md, "Reflection".';

/** Checks servePlugin's `reflection` (default on); throws ConfigError `ERR_LOOPP_DESCRIPTORS` (or `ERR_LOOPP_CONFIG` for a value of the wrong kind). */
export function reflectionSetting(option: ReflectionOptions | boolean | undefined): ReflectionSetting {
  if (option === false) return { enabled: false };
  if (option === undefined || option === true) return { enabled: true, files: [] };
  if (typeof option !== 'object' || option === null) {
    throw new ConfigError('ERR_LOOPP_CONFIG', `servePlugin: reflection must be an object or a boolean, got ${typeof option}`, {
      input: option,
      hint: 'Pass `reflection: false` to turn reflection off, or `{ descriptors }` to describe your services.',
    });
  }
  return { enabled: true, files: readDescriptors(option.descriptors) };
}

/** The application's files from `reflection.descriptors`. */
export function readDescriptors(descriptors: ReflectionOptions['descriptors']): DescribedFile[] {
  if (descriptors === undefined) return [];
  if (descriptors instanceof Uint8Array) {
    const files = decode('the FileDescriptorSet', descriptors, () => splitDescriptorSet(descriptors));
    if (files.length === 0) throw new ConfigError('ERR_LOOPP_DESCRIPTORS', 'reflection.descriptors: the FileDescriptorSet holds no file', { input: descriptors, hint: HINT });
    return files.map((f, i) => decode(`file ${i} of the FileDescriptorSet`, f, () => describeFile(f)));
  }
  if (!Array.isArray(descriptors)) {
    throw new ConfigError('ERR_LOOPP_DESCRIPTORS', `reflection.descriptors: expected a Uint8Array or an array, got ${kindOf(descriptors)}`, { input: descriptors, hint: HINT });
  }
  return (descriptors as readonly unknown[]).map((d, i) => {
    if (!(d instanceof Uint8Array)) {
      throw new ConfigError('ERR_LOOPP_DESCRIPTORS', `reflection.descriptors[${i}]: expected a Uint8Array (a serialized FileDescriptorProto), got ${kindOf(d)}`, { input: d, hint: HINT });
    }
    return decode(`reflection.descriptors[${i}]`, d, () => describeFile(d));
  });
}

function decode<T>(what: string, input: Uint8Array, read: () => T): T {
  try {
    return read();
  } catch (err) {
    throw new ConfigError('ERR_LOOPP_DESCRIPTORS', `reflection.descriptors: ${what} does not decode: ${messageOf(err)}`, { input, cause: err, hint: HINT });
  }
}

function kindOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return `an object (${Object.getPrototypeOf(v)?.constructor?.name ?? 'no prototype'})`;
  return typeof v;
}
