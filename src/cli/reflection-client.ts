/**
 * A gRPC server reflection client on a plugin's connection: one ServerReflectionInfo stream, whose
 * answers come in the order of the questions. grpc.reflection.v1 first, then v1alpha (which older
 * servers alone serve): the same messages under two service names.
 */
import * as grpc from '@grpc/grpc-js';
import { ReflectionV1Client, reflectionV1Alpha, type ServerReflectionRequest, type ServerReflectionResponse } from '../gen';

export type ReflectionQuestion = NonNullable<ServerReflectionRequest['messageRequest']>;
export type ReflectionAnswer = NonNullable<ServerReflectionResponse['messageResponse']>;

const APIS = [
  ['grpc.reflection.v1', (): typeof ReflectionV1Client => ReflectionV1Client],
  // The same messages under the older package: only the method's path differs.
  ['grpc.reflection.v1alpha', (): typeof ReflectionV1Client => reflectionV1Alpha().ServerReflectionClient as unknown as typeof ReflectionV1Client],
] as const;

export type ReflectionApi = (typeof APIS)[number][0];

/** The reflection stream misbehaved: ended early, or answered out of turn. */
export class ReflectionFailed extends Error {
  override readonly name = 'ReflectionFailed';
}

/** Neither reflection service answers: the plugin does not serve reflection. */
export class NoReflection extends Error {
  override readonly name = 'NoReflection';
}

export interface ReflectionSession {
  readonly api: ReflectionApi;
  /** The services the plugin lists (the answer to list_services), sorted. */
  readonly services: readonly string[];
  /** One question on the stream; rejects with the stream's gRPC error if it ends first. */
  ask(question: ReflectionQuestion): Promise<ReflectionAnswer>;
  end(): void;
}

interface Waiter {
  resolve(answer: ReflectionAnswer): void;
  reject(err: Error): void;
}

function openStream(api: ReflectionApi, client: ReflectionV1Client, signal: AbortSignal): Omit<ReflectionSession, 'services'> {
  const stream = client.serverReflectionInfo();
  const waiting: Waiter[] = [];
  let failure: Error | undefined;
  const fail = (err: Error): void => {
    failure ??= err;
    for (const w of waiting.splice(0)) w.reject(failure);
  };
  stream.on('data', (r: ServerReflectionResponse) => {
    const w = waiting.shift();
    if (r.messageResponse === undefined) w?.reject(new ReflectionFailed(`${api}: an answer without a message_response`));
    else w?.resolve(r.messageResponse);
  });
  stream.on('error', fail);
  stream.on('end', () => fail(new ReflectionFailed(`${api}: the server ended the reflection stream`)));
  const cancel = (): void => stream.cancel();
  signal.addEventListener('abort', cancel, { once: true });
  return {
    api,
    ask(question) {
      if (failure) return Promise.reject(failure);
      return new Promise((resolve, reject) => {
        waiting.push({ resolve, reject });
        stream.write({ host: '', messageRequest: question });
      });
    },
    end() {
      signal.removeEventListener('abort', cancel);
      // Not client.close(): that would close the plugin's channel, which the client only borrows.
      stream.end();
      stream.cancel();
    },
  };
}

function isUnimplemented(err: unknown): boolean {
  return (err as grpc.ServiceError | undefined)?.code === grpc.status.UNIMPLEMENTED;
}

/** Opens a session and lists the services; throws NoReflection when neither API is served. */
export async function openReflection(channel: grpc.ChannelInterface, signal: AbortSignal): Promise<ReflectionSession> {
  for (const [api, clientClass] of APIS) {
    const Client = clientClass();
    const client = new Client('unused', grpc.credentials.createInsecure(), { channelOverride: channel });
    const session = openStream(api, client, signal);
    try {
      const answer = await session.ask({ $case: 'listServices', value: '' });
      if (answer.$case === 'errorResponse') throw new ReflectionFailed(`${api}: list_services answered ${answer.value.errorCode}: ${answer.value.errorMessage}`);
      if (answer.$case !== 'listServicesResponse') throw new ReflectionFailed(`${api}: list_services answered ${answer.$case}`);
      return { ...session, services: answer.value.service.map((s) => s.name).sort() };
    } catch (err) {
      session.end();
      if (!isUnimplemented(err)) throw err;
    }
  }
  throw new NoReflection('the plugin does not serve gRPC server reflection (neither grpc.reflection.v1 nor grpc.reflection.v1alpha)');
}
