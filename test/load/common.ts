/** Pieces shared by the load tests and the soak: the plugins they launch, a plugin-served Echo, full GC. */
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import * as grpc from '@grpc/grpc-js';
import { grpcPlugin, startPlugin, type PluginClient, type PluginClientContext } from '../../src/index';
import { BrokerTestClient, EchoClient } from '../../fixtures/gen/examples/brokertest/brokertest';
import { KVClient } from '../../fixtures/gen/examples/kv/kv';
import { FIXTURE_HANDSHAKE } from '../../fixtures/plugins/_common';
import { unary } from '../../fixtures/counter/shared';
import { binary, fixtureAt, goBinary } from '../helpers';

export const kvPlugins = { kv: grpcPlugin({ client: ({ createClient }) => createClient<KVClient>(KVClient.service) }) };
export const brokerPlugins = {
  brokertest: grpcPlugin({ client: (ctx: PluginClientContext) => ({ ctx, client: ctx.createClient<BrokerTestClient>(BrokerTestClient.service) }) }),
};

export interface LaunchMode {
  go: boolean;
  autoMTLS: boolean;
  mux: boolean;
  cwd?: string;
}

/** The KV example plugin: go-interop's kv-plugin-go or bin/kv-plugin-ts. */
export function startKv(m: LaunchMode): Promise<PluginClient<typeof kvPlugins>> {
  return startPlugin({
    command: m.go ? goBinary('kv-plugin-go') : binary('kv-plugin-ts'),
    cwd: m.cwd,
    handshake: FIXTURE_HANDSHAKE,
    plugins: kvPlugins,
    autoMTLS: m.autoMTLS,
    grpcBrokerMultiplex: m.mux,
  });
}

/** The brokertest plugin: go-interop's brokertest-plugin-go or the TS fixture. */
export function startBrokertest(m: LaunchMode): Promise<PluginClient<typeof brokerPlugins>> {
  return startPlugin({
    command: m.go ? goBinary('brokertest-plugin-go') : process.execPath,
    args: m.go ? [] : [fixtureAt('brokertest/brokertest-plugin')],
    cwd: m.cwd,
    handshake: FIXTURE_HANDSHAKE,
    plugins: brokerPlugins,
    autoMTLS: m.autoMTLS,
    grpcBrokerMultiplex: m.mux,
  });
}

/** Asks the plugin to serve an Echo (`prefix` + text) on a broker id, dials it, runs `use`, then closes both. */
export async function withPluginEcho<T>(p: PluginClient<typeof brokerPlugins>, prefix: string, use: (echo: EchoClient) => Promise<T>): Promise<T> {
  const { ctx, client } = p.dispense('brokertest');
  const { id } = await unary<{ prefix: string }, { id: number }>(client.serveEcho, client, { prefix });
  const channel = await ctx.broker.dial(id);
  try {
    return await use(new EchoClient('unused', grpc.credentials.createInsecure(), { channelOverride: channel }));
  } finally {
    channel.close();
    await unary(client.stopEcho, client, { id });
  }
}

/** Promise form of Echo. */
export function echoCall(echo: EchoClient, text: string): Promise<{ text: string }> {
  return unary<{ text: string }, { text: string }>(echo.echo, echo, { text });
}

/** A full GC without --expose-gc on the command line (the test runner starts the process). */
export function fullGc(): () => void {
  v8.setFlagsFromString('--expose-gc');
  return vm.runInNewContext('gc') as () => void;
}
