/**
 * The reflection rule: list the services over grpc.reflection.v1 (v1alpha when v1 is unimplemented,
 * as older servers have only that), then each service's methods from its file descriptor.
 */
import * as grpc from '@grpc/grpc-js';
import { REFLECTION_PATHS, decodeReply, fileContainingSymbolRequest, listServicesRequest, methodsOf, type ReflectionReply } from './reflection-wire';
import { fail, pass, type RuleResult } from './rules';

const REFLECTION_TIMEOUT_MS = 5000;

/** One reflection stream: ask, wait for the answer, ask again. */
interface Exchange {
  ask(request: Buffer): Promise<ReflectionReply>;
  end(): void;
}

function openExchange(channel: grpc.ChannelInterface, path: string): Exchange {
  const client = new grpc.Client('unused', grpc.credentials.createInsecure(), { channelOverride: channel as grpc.Channel });
  const deadline = Date.now() + REFLECTION_TIMEOUT_MS;
  const call = client.makeBidiStreamRequest(path, (b: Buffer) => b, (b: Buffer) => b, new grpc.Metadata(), { deadline });
  const waiting: Array<{ resolve(r: ReflectionReply): void; reject(e: Error): void }> = [];
  let ended: Error | undefined;
  call.on('data', (b: Buffer) => waiting.shift()?.resolve(decodeReply(b)));
  call.on('error', (err: Error) => {
    ended = err;
    for (const w of waiting.splice(0)) w.reject(err);
  });
  call.on('end', () => {
    ended ??= new Error('the reflection stream ended');
    for (const w of waiting.splice(0)) w.reject(ended);
  });
  return {
    ask: (request) =>
      new Promise((resolve, reject) => {
        if (ended) return reject(ended);
        waiting.push({ resolve, reject });
        call.write(request);
      }),
    // Not client.close(): that would close the shared channel.
    end: () => call.cancel(),
  };
}

/** `Service (A, B)` for each service, from one reflection stream. */
async function describeServices(x: Exchange): Promise<{ lines: string[]; missing: string[] }> {
  const listed = await x.ask(listServicesRequest());
  if (listed.kind !== 'services') throw new Error(listed.kind === 'error' ? `list_services: ${listed.message} (code ${listed.code})` : 'list_services: unexpected reply');
  const lines: string[] = [];
  const missing: string[] = [];
  for (const name of listed.names) {
    const reply = await x.ask(fileContainingSymbolRequest(name));
    const methods = reply.kind === 'files' ? methodsOf(reply.files, name) : undefined;
    if (methods === undefined) missing.push(name);
    lines.push(`${name} (${methods?.join(', ') ?? (reply.kind === 'error' ? `error: ${reply.message}` : 'no descriptor')})`);
  }
  return { lines, missing };
}

async function tryVersion(channel: grpc.ChannelInterface, version: keyof typeof REFLECTION_PATHS): Promise<{ lines: string[]; missing: string[] }> {
  const x = openExchange(channel, REFLECTION_PATHS[version]);
  try {
    return await describeServices(x);
  } finally {
    x.end();
  }
}

export async function reflectionRule(channel: grpc.ChannelInterface): Promise<RuleResult> {
  const id = 'grpc.reflection';
  const hint = 'Register gRPC server reflection (grpc.reflection.v1 and v1alpha; go-plugin registers it on its gRPC server).';
  const tried: string[] = [];
  for (const version of ['v1', 'v1alpha'] as const) {
    try {
      const { lines, missing } = await tryVersion(channel, version);
      const evidence = `${version}: ${lines.length} services: ${lines.join('; ')}`;
      if (missing.length > 0) return fail(id, `${evidence}; no methods for ${missing.join(', ')}`, 'Serve a file descriptor for every listed service (file_containing_symbol).');
      return pass(id, evidence);
    } catch (err) {
      const e = err as grpc.ServiceError;
      tried.push(`${version}: ${e.code === grpc.status.UNIMPLEMENTED ? 'UNIMPLEMENTED' : e.message}`);
      if (e.code !== grpc.status.UNIMPLEMENTED) break;
    }
  }
  return fail(id, tried.join('; '), hint);
}
