/**
 * What gRPC reflection needs of serialized descriptors, read straight off the wire with
 * @bufbuild/protobuf's BinaryReader (which the generated code loads anyway): a FileDescriptorSet split
 * into its files, and of each FileDescriptorProto its name, imports and the fully qualified names it
 * declares. The file's bytes are served as given; nothing is decoded into messages or re-encoded, so
 * a reflection client gets exactly what protoc or buf wrote.
 */
import { BinaryReader, WireType } from '@bufbuild/protobuf/wire';

/** One FileDescriptorProto as reflection indexes it. */
export interface DescribedFile {
  /** The file's name, e.g. `grpc/health/v1/health.proto`. */
  readonly name: string;
  /** The serialized FileDescriptorProto, as given. */
  readonly bytes: Uint8Array;
  /** The names of the files it imports. */
  readonly dependencies: readonly string[];
  /** Fully qualified names it declares: messages, fields, oneofs, enums, enum values, services, methods, extensions. */
  readonly symbols: readonly string[];
  /** The extensions it declares: the extended message (fully qualified, no leading dot) and field number. */
  readonly extensions: readonly { readonly extendee: string; readonly number: number }[];
}

/** protoc refuses messages nested deeper than this; a deeper "descriptor" is not one. */
const MAX_DEPTH = 100;

/** Calls `visit` with each field of the message in `bytes`; throws on bytes that are not a message. */
function eachField(bytes: Uint8Array, visit: (fieldNo: number, wireType: WireType, reader: BinaryReader) => boolean): void {
  const reader = new BinaryReader(bytes);
  while (reader.pos < reader.len) {
    const [fieldNo, wireType] = reader.tag();
    // Protobuf's skip, not a test's: a field the visitor does not read (options, source info) is stepped over.
    if (!visit(fieldNo, wireType, reader)) reader.skip(wireType, fieldNo);
  }
}

/** The payload of a length-delimited field (a string, bytes or a sub-message). */
function lengthDelimited(reader: BinaryReader, wireType: WireType, fieldNo: number): Uint8Array {
  if (wireType !== WireType.LengthDelimited) throw new Error(`field ${fieldNo} has wire type ${wireType}, not length-delimited`);
  return reader.bytes();
}

const utf8 = new TextDecoder('utf-8', { fatal: true });
function text(reader: BinaryReader, wireType: WireType, fieldNo: number): string {
  return utf8.decode(lengthDelimited(reader, wireType, fieldNo));
}

/** The serialized files of a FileDescriptorSet (field 1; a set has no other field). */
export function splitDescriptorSet(set: Uint8Array): Uint8Array[] {
  const files: Uint8Array[] = [];
  eachField(set, (fieldNo, wireType, reader) => {
    if (fieldNo !== 1) throw new Error(`field ${fieldNo}: a FileDescriptorSet has field 1 only (is this a single FileDescriptorProto?)`);
    files.push(lengthDelimited(reader, wireType, fieldNo));
    return true;
  });
  return files;
}

/** Reads one serialized FileDescriptorProto; throws when it is not one. */
export function describeFile(bytes: Uint8Array): DescribedFile {
  let name = '';
  let pkg = '';
  const dependencies: string[] = [];
  const parts: { fieldNo: number; bytes: Uint8Array }[] = [];
  eachField(bytes, (fieldNo, wireType, reader) => {
    if (fieldNo === 1) name = text(reader, wireType, fieldNo);
    else if (fieldNo === 2) pkg = text(reader, wireType, fieldNo);
    else if (fieldNo === 3) dependencies.push(text(reader, wireType, fieldNo));
    else if (fieldNo >= 4 && fieldNo <= 7) parts.push({ fieldNo, bytes: lengthDelimited(reader, wireType, fieldNo) });
    else return false;
    return true;
  });
  if (name === '') throw new Error('a FileDescriptorProto without a name (field 1)');
  const out = new Declarations();
  for (const p of parts) {
    if (p.fieldNo === 4) out.message(pkg, p.bytes, 1);
    else if (p.fieldNo === 5) out.enumType(pkg, p.bytes);
    else if (p.fieldNo === 6) out.service(pkg, p.bytes);
    else out.field(pkg, p.bytes, true);
  }
  return { name, bytes, dependencies, symbols: out.symbols, extensions: out.extensions };
}

const qualify = (scope: string, name: string): string => (scope === '' ? name : `${scope}.${name}`);

/** The names declared in a file, collected while walking its declarations. */
class Declarations {
  readonly symbols: string[] = [];
  readonly extensions: { extendee: string; number: number }[] = [];

  /** DescriptorProto: name 1, field 2, nested_type 3, enum_type 4, extension 6, oneof_decl 8. */
  message(scope: string, bytes: Uint8Array, depth: number): void {
    if (depth > MAX_DEPTH) throw new Error(`messages nested deeper than ${MAX_DEPTH}`);
    const parts: { fieldNo: number; bytes: Uint8Array }[] = [];
    const name = this.#named(bytes, (fieldNo) => fieldNo === 2 || fieldNo === 3 || fieldNo === 4 || fieldNo === 6 || fieldNo === 8, parts);
    const full = qualify(scope, name);
    this.symbols.push(full);
    for (const p of parts) {
      if (p.fieldNo === 2) this.field(full, p.bytes, false);
      else if (p.fieldNo === 3) this.message(full, p.bytes, depth + 1);
      else if (p.fieldNo === 4) this.enumType(full, p.bytes);
      else if (p.fieldNo === 6) this.field(full, p.bytes, true);
      else this.symbols.push(qualify(full, this.#named(p.bytes, () => false, [])));
    }
  }

  /** FieldDescriptorProto: name 1, extendee 2, number 3. */
  field(scope: string, bytes: Uint8Array, extension: boolean): void {
    let name = '';
    let extendee = '';
    let number = 0;
    eachField(bytes, (fieldNo, wireType, reader) => {
      if (fieldNo === 1) name = text(reader, wireType, fieldNo);
      else if (fieldNo === 2) extendee = text(reader, wireType, fieldNo);
      else if (fieldNo === 3 && wireType === WireType.Varint) number = reader.int32();
      else return false;
      return true;
    });
    if (name === '') throw new Error(`a field without a name in ${scope || 'the file'}`);
    this.symbols.push(qualify(scope, name));
    if (extension) this.extensions.push({ extendee: extendee.replace(/^\./, ''), number });
  }

  /** EnumDescriptorProto: name 1, value 2; values are siblings of their enum (protobuf's C++ scoping). */
  enumType(scope: string, bytes: Uint8Array): void {
    const values: { fieldNo: number; bytes: Uint8Array }[] = [];
    this.symbols.push(qualify(scope, this.#named(bytes, (fieldNo) => fieldNo === 2, values)));
    for (const v of values) this.symbols.push(qualify(scope, this.#named(v.bytes, () => false, [])));
  }

  /** ServiceDescriptorProto: name 1, method 2. */
  service(scope: string, bytes: Uint8Array): void {
    const methods: { fieldNo: number; bytes: Uint8Array }[] = [];
    const full = qualify(scope, this.#named(bytes, (fieldNo) => fieldNo === 2, methods));
    this.symbols.push(full);
    for (const m of methods) this.symbols.push(qualify(full, this.#named(m.bytes, () => false, [])));
  }

  /** The name (field 1) of a declaration; the fields `keep` selects go into `parts`. */
  #named(bytes: Uint8Array, keep: (fieldNo: number) => boolean, parts: { fieldNo: number; bytes: Uint8Array }[]): string {
    let name = '';
    eachField(bytes, (fieldNo, wireType, reader) => {
      if (fieldNo === 1) name = text(reader, wireType, fieldNo);
      else if (keep(fieldNo)) parts.push({ fieldNo, bytes: lengthDelimited(reader, wireType, fieldNo) });
      else return false;
      return true;
    });
    if (name === '') throw new Error('a declaration without a name');
    return name;
  }
}
