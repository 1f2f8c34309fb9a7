/** `loopp call <plugin> [args...] <service>/<method> '<json>'`: one RPC, found by server reflection. */
import { fromBinary, toBinary, type DescMethod, type FileRegistry, type JsonValue } from '@bufbuild/protobuf';
import type * as grpc from '@grpc/grpc-js';
import { UsageError, durationMs, optionsHelp, parseArgs, value, type OptionSpec } from '../args';
import type { Command } from '../command';
import { EXIT, EXIT_HELP, type ExitCode } from '../exit-codes';
import { LAUNCH_OPTIONS, formatLaunchFailure, launchPlan, startWithProgress } from '../launch-options';
import type { CliIo } from '../output';
import { NotDescribed, descriptorSource, type DescriptorSource } from './descriptors';
import { invoke } from './invoke';
import { parseJsonText, replyJson, requestFrom } from './json-io';
import { methodLine, parseMethodRef, pickMethod, pickService, type MethodRef } from './method';
import { NoReflection, ReflectionFailed, openReflection, type ReflectionSession } from '../reflection-client';
import { formatStatus, statusName } from './status';

const OPTIONS: readonly OptionSpec[] = [
  ...LAUNCH_OPTIONS,
  { name: 'deadline', kind: 'value', arg: '<duration>', help: "the call's deadline: 500ms, 30s, 2m (default: none)" },
];

const HELP = `Usage: loopp call [options] <plugin> [plugin args...] <service>/<method> '<json>'

Starts the plugin (handshake, AutoMTLS), finds <service>/<method> by gRPC server reflection
(grpc.reflection.v1, else v1alpha), sends the JSON as the request (proto3 JSON mapping: bytes in
base64, 64-bit integers as strings or numbers, enums by name), prints each reply as one line of JSON
(every field, zero values too; a server-streaming method prints one line per message), and stops
the plugin. The service may be given without its package when no other service has that name.

Options:
${optionsHelp(OPTIONS)}

Examples:
  loopp call --cookie BASIC_PLUGIN=hello ./kv-plugin proto.KV/Put '{"key":"a","value":"aGVsbG8="}'
  loopp call --cookie BASIC_PLUGIN=hello ./kv-plugin KV/Get '{"key":"a"}'
  loopp call --cookie BASIC_PLUGIN=hello ./kv-plugin grpc.health.v1.Health/Check '{"service":"plugin"}'
  loopp call --loop relayer --no-automtls ./my-relayer loop.PluginRelayer/NewRelayer '{"config":"..."}'

A failed call prints its status code's name and number, its message and its details, and exits 1.
A plugin that serves no reflection: Go plugins get it from go-plugin (plugin.Serve registers it on
its gRPC server); loopp plugins serve it unless servePlugin({ reflection: false }), and describe
their own services with servePlugin({ reflection: { descriptors } }) (docs/plugin.md, "Reflection").

${EXIT_HELP}
`;

const NO_REFLECTION_HINT =
  '  Go plugins: go-plugin registers reflection on its gRPC server (plugin.Serve); a server of your own needs reflection.Register(server) (google.golang.org/grpc/reflection).\n' +
  '  loopp plugins: reflection is on unless servePlugin({ reflection: false }).\n';
const NOT_DESCRIBED_HINT =
  '  loopp plugins: give the descriptors of your services: servePlugin({ reflection: { descriptors } }) (docs/plugin.md, "Reflection").\n';

interface Request {
  readonly ref: MethodRef;
  readonly json: JsonValue;
  readonly deadlineMs: number | undefined;
}

type Found = { readonly method: DescMethod; readonly registry: FileRegistry };

/** Every service the plugin lists, with its methods where it can describe them. */
async function listing(session: ReflectionSession, source: DescriptorSource): Promise<string> {
  const lines: string[] = [];
  for (const name of session.services) {
    try {
      const registry = await source.registryOf(name);
      const service = registry.getService(name);
      lines.push(`  ${name}: ${service ? service.methods.map((m) => m.name).join(', ') : '(not described)'}`);
    } catch {
      lines.push(`  ${name}: (not described)`);
    }
  }
  return lines.join('\n');
}

/** The method and its registry, or a UsageError/NotDescribed. */
async function findMethod(session: ReflectionSession, ref: MethodRef): Promise<Found> {
  const source = descriptorSource(session);
  const service = await pickService(ref, session.services, () => listing(session, source));
  const registry = await source.registryOf(service);
  return { method: pickMethod(registry, service, ref), registry };
}

/** Says why reflection could not give the method; undefined for an error that is not about that. */
function reflectionFailure(err: unknown, io: CliIo): ExitCode | undefined {
  if (io.signal.aborted) return EXIT.interrupted;
  if (err instanceof NoReflection) {
    io.stderr.write(`loopp call: ${err.message}\n${NO_REFLECTION_HINT}`);
  } else if (err instanceof NotDescribed) {
    // loopp's reflection says itself how to give descriptors; other servers get the hint.
    io.stderr.write(`loopp call: ${err.message}\n${err.reason.includes('reflection: { descriptors }') ? '' : NOT_DESCRIBED_HINT}`);
  } else if (err instanceof ReflectionFailed) {
    io.stderr.write(`loopp call: ${err.message}\n`);
  } else if (typeof (err as grpc.ServiceError | undefined)?.code === 'number') {
    const { code, details } = err as grpc.ServiceError;
    io.stderr.write(`loopp call: the reflection stream failed: ${statusName(code)} (${code}): ${details}\n`);
  } else {
    return undefined;
  }
  return EXIT.failed;
}

/** The method, by reflection; or the exit status, having said why not. */
async function resolveMethod(channel: grpc.ChannelInterface, ref: MethodRef, io: CliIo): Promise<Found | ExitCode> {
  let session: ReflectionSession | undefined;
  try {
    session = await openReflection(channel, io.signal);
    return await findMethod(session, ref);
  } catch (err) {
    const exit = reflectionFailure(err, io);
    if (exit === undefined) throw err;
    return exit;
  } finally {
    session?.end();
  }
}

async function callOn(client: { readonly channel: grpc.ChannelInterface }, r: Request, io: CliIo): Promise<ExitCode> {
  const found = await resolveMethod(client.channel, r.ref, io);
  if (typeof found === 'number') return found;
  const { method, registry } = found;
  const request = toBinary(method.input, requestFrom(method.input, r.json, registry));
  const outcome = await invoke(client.channel, method, request, {
    deadlineMs: r.deadlineMs,
    signal: io.signal,
    onReply: (bytes) => io.stdout.write(`${replyJson(method.output, fromBinary(method.output, bytes), registry)}\n`),
  });
  if (outcome.ok) return EXIT.ok;
  if (io.signal.aborted) return EXIT.interrupted;
  io.stderr.write(`loopp call: ${formatStatus(`${method.parent.typeName}/${method.name}`, outcome.error, registry)}`);
  io.stderr.write(`  ${methodLine(method)}\n`);
  return EXIT.failed;
}

async function run(argv: readonly string[], io: CliIo): Promise<ExitCode> {
  const parsed = parseArgs(argv, OPTIONS);
  if (parsed.rest.length < 3) throw new UsageError(`expected <plugin> [plugin args...] <service>/<method> '<json>', got ${parsed.rest.length} word(s); see loopp call --help`);
  const deadline = value(parsed, 'deadline');
  const request: Request = {
    ref: parseMethodRef(parsed.rest[parsed.rest.length - 2]!),
    json: parseJsonText(parsed.rest[parsed.rest.length - 1]!),
    deadlineMs: deadline === undefined ? undefined : durationMs('deadline', deadline),
  };
  const plan = await launchPlan({ options: parsed.options, rest: parsed.rest.slice(0, -2) });
  const launched = await startWithProgress(plan, io);
  if (!launched.ok) {
    io.stderr.write(`loopp call: ${formatLaunchFailure(launched.failure)}`);
    return launched.exit;
  }
  try {
    return await callOn(launched.client, request, io);
  } finally {
    await launched.client.close();
  }
}

export const callCommand: Command = {
  name: 'call',
  summary: "call one method of a plugin with JSON, found by the plugin's gRPC server reflection",
  help: HELP,
  run,
};
