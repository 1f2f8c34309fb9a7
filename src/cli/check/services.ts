/**
 * Rules on go-plugin's own gRPC services: health, the stdio and broker streams, and Shutdown with the
 * time the process takes to exit after it.
 */
import * as grpc from '@grpc/grpc-js';
import { GRPCBrokerClient, GRPCStdioClient, HealthCheckResponse_ServingStatus } from '../../gen';
import type { PluginConnection } from '../../host/connection';
import { HEALTH_SERVICE_NAME } from '../../protocol';
import type { Launch } from './launch';
import { fail, pass, verdict, type RuleResult } from './rules';

const HEALTH_TIMEOUT_MS = 5000;
/** A stream still open this long after the call is taken as opened (a refused one ends at once). */
export const STREAM_OPEN_MS = 500;
/** go-plugin's host waits this long after Shutdown before it kills the plugin. */
export const SHUTDOWN_GRACE_MS = 2000;

function clientOptions(channel: grpc.ChannelInterface): grpc.ClientOptions {
  return { channelOverride: channel as grpc.Channel };
}

function statusText(err: grpc.ServiceError): string {
  return `${grpc.status[err.code] ?? err.code}: ${err.details || err.message}`;
}

export function healthRule(c: PluginConnection): Promise<RuleResult> {
  const id = 'grpc.health';
  const hint = `Serve grpc.health.v1.Health and answer SERVING for the service "${HEALTH_SERVICE_NAME}".`;
  const t0 = Date.now();
  return new Promise((resolve) => {
    c.health.check({ service: HEALTH_SERVICE_NAME }, new grpc.Metadata(), { deadline: Date.now() + HEALTH_TIMEOUT_MS }, (err, reply) => {
      if (err) return resolve(fail(id, `Check("${HEALTH_SERVICE_NAME}"): ${statusText(err)}`, hint));
      const name = HealthCheckResponse_ServingStatus[reply!.status] ?? String(reply!.status);
      resolve(verdict(id, reply!.status === HealthCheckResponse_ServingStatus.SERVING, `Check("${HEALTH_SERVICE_NAME}") = ${name} in ${Date.now() - t0} ms`, hint));
    });
  });
}

/** A server stream or a bidi stream the check holds open until the plugin stops. */
export interface HeldStream {
  /** Resolves after STREAM_OPEN_MS, or earlier with the status that ended it. */
  readonly opened: Promise<{ open: true; messages: number } | { open: false; error: string }>;
  cancel(): void;
}

function hold(call: grpc.ClientReadableStream<unknown> | grpc.ClientDuplexStream<unknown, unknown>): HeldStream {
  let messages = 0;
  call.on('data', () => messages++);
  const opened = new Promise<{ open: true; messages: number } | { open: false; error: string }>((resolve) => {
    const timer = setTimeout(() => resolve({ open: true, messages }), STREAM_OPEN_MS);
    call.on('error', (err: grpc.ServiceError) => {
      clearTimeout(timer);
      resolve({ open: false, error: statusText(err) });
    });
    call.on('end', () => {
      clearTimeout(timer);
      resolve({ open: false, error: 'the stream ended with OK at once' });
    });
  });
  return { opened, cancel: () => call.cancel() };
}

export function openStdio(channel: grpc.ChannelInterface): HeldStream {
  return hold(new GRPCStdioClient('unused', grpc.credentials.createInsecure(), clientOptions(channel)).streamStdio({}));
}

export function openBroker(channel: grpc.ChannelInterface): HeldStream {
  return hold(new GRPCBrokerClient('unused', grpc.credentials.createInsecure(), clientOptions(channel)).startStream());
}

export async function stdioRule(s: HeldStream): Promise<RuleResult> {
  const r = await s.opened;
  const evidence = r.open ? `open after ${STREAM_OPEN_MS} ms (${r.messages} messages)` : `ended: ${r.error}`;
  return verdict('grpc.stdio', r.open, evidence, 'Serve plugin.GRPCStdio/StreamStdio: hosts open it at once to receive the plugin\'s stdout and stderr.');
}

export async function brokerRule(s: HeldStream, mux: boolean): Promise<RuleResult> {
  const r = await s.opened;
  const over = mux ? ' over the multiplexed (yamux) connection' : '';
  const evidence = r.open ? `open${over} after ${STREAM_OPEN_MS} ms (${r.messages} messages)` : `ended${over}: ${r.error}`;
  return verdict('grpc.broker', r.open, evidence, 'Serve plugin.GRPCBroker/StartStream (one stream per connection; hosts open it at once).');
}

/** Resolves true when the process exits within `ms` (at once when it has already). */
function exitWithin(l: Launch, ms: number): Promise<boolean> {
  if (l.exit() !== undefined || l.proc === undefined) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    l.proc!.child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

/**
 * Shutdown, then the exit within SHUTDOWN_GRACE_MS; a plugin still running then is SIGKILLed.
 * `afterReply` closes the connection once Shutdown has answered, as go-plugin's host does (broker
 * closed before, connection after): a plugin may wait for its open streams to end before it exits.
 */
export async function shutdownRule(c: PluginConnection, l: Launch, afterReply: () => void): Promise<RuleResult> {
  const t0 = Date.now();
  const reply = new Promise<string>((resolve) => {
    c.controller.shutdown({}, new grpc.Metadata(), { deadline: t0 + SHUTDOWN_GRACE_MS }, (err) => {
      resolve(`${err ? statusText(err) : 'OK'} after ${Date.now() - t0} ms`);
      afterReply();
    });
  });
  const exited = await exitWithin(l, SHUTDOWN_GRACE_MS);
  if (!exited) l.proc?.kill();
  const answer = await reply;
  const exit = l.exit();
  if (!exited || exit === undefined) {
    return fail('grpc.shutdown', `Shutdown answered ${answer}; still running ${SHUTDOWN_GRACE_MS} ms later (killed)`, 'Exit the process once Shutdown is called (go-plugin stops its server and Serve returns).');
  }
  return pass('grpc.shutdown', `Shutdown answered ${answer}; exited with ${exit.signal ?? `status ${exit.code}`} ${exit.atMs - t0} ms after the call`);
}
