/**
 * The reflection rule: list the services (grpc.reflection.v1, or v1alpha where only that is served),
 * then each service's methods from the file descriptor that declares it. The reflection client is the
 * one `loopp call` uses.
 */
import * as grpc from '@grpc/grpc-js';
import { fromBinary } from '@bufbuild/protobuf';
import { FileDescriptorProtoSchema } from '@bufbuild/protobuf/wkt';
import { NoReflection, openReflection, type ReflectionSession } from '../reflection-client';
import { fail, pass, type RuleResult } from './rules';

const REFLECTION_TIMEOUT_MS = 5000;

/** The methods of `service` (full name) among the file descriptors, or undefined if none declares it. */
function methodsOf(files: readonly Uint8Array[], service: string): string[] | undefined {
  for (const bytes of files) {
    const file = fromBinary(FileDescriptorProtoSchema, bytes);
    for (const s of file.service) {
      if ((file.package ? `${file.package}.${s.name}` : s.name) === service) return s.method.map((m) => m.name);
    }
  }
  return undefined;
}

/** `Service (A, B)` for each listed service; `missing` names those no descriptor declares. */
async function describeServices(session: ReflectionSession): Promise<{ lines: string[]; missing: string[] }> {
  const lines: string[] = [];
  const missing: string[] = [];
  for (const name of session.services) {
    const answer = await session.ask({ $case: 'fileContainingSymbol', value: name });
    const methods = answer.$case === 'fileDescriptorResponse' ? methodsOf(answer.value.fileDescriptorProto, name) : undefined;
    if (methods === undefined) missing.push(name);
    lines.push(`${name} (${methods?.join(', ') ?? (answer.$case === 'errorResponse' ? `error: ${answer.value.errorMessage}` : 'no descriptor')})`);
  }
  return { lines, missing };
}

export async function reflectionRule(channel: grpc.ChannelInterface): Promise<RuleResult> {
  const id = 'grpc.reflection';
  let session: ReflectionSession;
  try {
    session = await openReflection(channel, AbortSignal.timeout(REFLECTION_TIMEOUT_MS));
  } catch (err) {
    const evidence = err instanceof NoReflection ? 'v1: UNIMPLEMENTED; v1alpha: UNIMPLEMENTED' : (err as Error).message;
    return fail(id, evidence, 'Register gRPC server reflection (grpc.reflection.v1 and v1alpha; go-plugin registers it on its gRPC server).');
  }
  try {
    const { lines, missing } = await describeServices(session);
    const evidence = `${session.api.replace('grpc.reflection.', '')}: ${lines.length} services: ${lines.join('; ')}`;
    if (missing.length > 0) return fail(id, `${evidence}; no methods for ${missing.join(', ')}`, 'Serve a file descriptor for every listed service (file_containing_symbol).');
    return pass(id, evidence);
  } catch (err) {
    return fail(id, `${session.api}: ${(err as Error).message}`, 'The reflection stream failed while describing the services.');
  } finally {
    session.end();
  }
}
