/**
 * The protobuf descriptors of a plugin's service, fetched by reflection: the file that declares it
 * and every file it imports (a server sends each file once per stream, so they are kept), made into
 * a @bufbuild/protobuf registry. Well-known types a server does not send come from @bufbuild/protobuf.
 */
import { create, createFileRegistry, fromBinary, type DescFile, type FileRegistry } from '@bufbuild/protobuf';
import * as wkt from '@bufbuild/protobuf/wkt';
import { FileDescriptorProtoSchema, FileDescriptorSetSchema, type FileDescriptorProto } from '@bufbuild/protobuf/wkt';
import type { ReflectionAnswer, ReflectionQuestion, ReflectionSession } from '../reflection-client';

const WELL_KNOWN = new Map<string, DescFile>(
  Object.values(wkt)
    .filter((v): v is DescFile => typeof v === 'object' && v !== null && (v as { kind?: unknown }).kind === 'file')
    .map((f) => [f.proto.name, f]),
);

/** The plugin lists a service but cannot describe it (or one of its imports). */
export class NotDescribed extends Error {
  override readonly name = 'NotDescribed';
  constructor(
    readonly symbol: string,
    readonly reason: string,
  ) {
    super(`the plugin lists ${symbol} but does not describe it by reflection: ${reason}`);
  }
}

export interface DescriptorSource {
  /** The registry of the file declaring service `name`, with its imports; throws NotDescribed. */
  registryOf(name: string): Promise<FileRegistry>;
}

function filesOf(answer: ReflectionAnswer, question: ReflectionQuestion, symbol: string): FileDescriptorProto[] {
  if (answer.$case === 'errorResponse') throw new NotDescribed(symbol, `${question.$case} ${String(question.value)} answered ${answer.value.errorCode}: ${answer.value.errorMessage}`);
  if (answer.$case !== 'fileDescriptorResponse') throw new NotDescribed(symbol, `${question.$case} answered ${answer.$case}`);
  return answer.value.fileDescriptorProto.map((bytes) => fromBinary(FileDescriptorProtoSchema, bytes));
}

function declares(file: FileDescriptorProto, service: string): boolean {
  return file.service.some((s) => (file.package ? `${file.package}.${s.name}` : s.name) === service);
}

/**
 * `target` and everything it imports, each file after its imports. (createFileRegistry's own
 * resolver orders them breadth-first, which fails when a file imports a sibling it comes before, as
 * the LOOP protos do: loopp's relayer.proto failed with "Cannot find codec/codec.proto".)
 */
function inImportOrder(target: FileDescriptorProto, lookup: (name: string) => FileDescriptorProto | undefined, symbol: string): FileDescriptorProto[] {
  const ordered: FileDescriptorProto[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (file: FileDescriptorProto): void => {
    if (state.get(file.name) === 'done') return;
    if (state.get(file.name) === 'visiting') throw new NotDescribed(symbol, `${file.name} imports itself through its imports`);
    state.set(file.name, 'visiting');
    for (const name of file.dependency) {
      const dep = lookup(name);
      if (dep === undefined) throw new NotDescribed(symbol, `${name}, imported by ${file.name}, is not described`);
      visit(dep);
    }
    state.set(file.name, 'done');
    ordered.push(file);
  };
  visit(target);
  return ordered;
}

export function descriptorSource(session: ReflectionSession): DescriptorSource {
  const files = new Map<string, FileDescriptorProto>();
  const ask = async (question: ReflectionQuestion, symbol: string): Promise<FileDescriptorProto[]> => {
    const received = filesOf(await session.ask(question), question, symbol);
    for (const f of received) files.set(f.name, f);
    return received;
  };
  const loadImports = async (file: FileDescriptorProto, symbol: string): Promise<void> => {
    const queue = [...file.dependency];
    const seen = new Set<string>();
    while (queue.length > 0) {
      const name = queue.shift()!;
      if (seen.has(name)) continue;
      seen.add(name);
      if (!files.has(name) && !WELL_KNOWN.has(name)) await ask({ $case: 'fileByFilename', value: name }, symbol);
      queue.push(...(files.get(name)?.dependency ?? []));
    }
  };
  return {
    async registryOf(name) {
      const received = await ask({ $case: 'fileContainingSymbol', value: name }, name);
      const file = received.find((f) => declares(f, name)) ?? [...files.values()].find((f) => declares(f, name));
      if (file === undefined) throw new NotDescribed(name, `no file of the answer (${received.map((f) => f.name).join(', ')}) declares it`);
      await loadImports(file, name);
      const ordered = inImportOrder(file, (dep) => files.get(dep) ?? WELL_KNOWN.get(dep)?.proto, name);
      try {
        return createFileRegistry(create(FileDescriptorSetSchema, { file: ordered }));
      } catch (err) {
        throw new NotDescribed(name, (err as Error).message);
      }
    },
  };
}
