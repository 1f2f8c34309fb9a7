/**
 * The one place loopp makes a client channel: loopp's own H2Channel (the default) or grpc-js's
 * Channel, to an address or over streams someone else opens (yamux). grpc-js cannot dial a stream,
 * so for it a stream channel goes through a private unix-socket bridge; H2Channel dials the stream.
 */
import * as grpc from '@grpc/grpc-js';
import type { Duplex } from 'node:stream';
import type { Log } from '../../core/debug';
import { ConfigError } from '../../core/errors';
import type { Network } from '../../wire/handshake';
import { H2Channel } from '../h2/channel';
import { dialNet, overTls, type Dial } from '../h2/dial';
import { grpcTarget } from '../transport';
import { createBridge } from './bridge';
import type { MtlsChannel } from './credentials';

/** Which channel implementation carries loopp's connections. */
export type ChannelKind = 'loopp' | 'grpc-js';

export const CHANNEL_KINDS: readonly ChannelKind[] = ['loopp', 'grpc-js'];

export interface ChannelSpec {
  kind: ChannelKind;
  credentials: MtlsChannel;
  /** grpc-js channel options (both kinds read the ones docs/host.md lists). */
  options: grpc.ChannelOptions;
  log: Log;
}

function h2(spec: ChannelSpec, target: string, dial: Dial): H2Channel {
  const secured = spec.credentials.tls === undefined ? dial : overTls(dial, spec.credentials.tls);
  return new H2Channel({ target, dial: secured, secure: spec.credentials.tls !== undefined, options: spec.options, log: spec.log });
}

function grpcJs(spec: ChannelSpec, target: string): grpc.Channel {
  return new grpc.Channel(target, spec.credentials.credentials, { ...spec.options, ...spec.credentials.options });
}

/** A channel to a unix or TCP address. Throws for an address grpc-js cannot parse (grpc-js kind). */
export function openAddressChannel(spec: ChannelSpec, network: Network, address: string): grpc.ChannelInterface {
  const target = grpcTarget(network, address);
  if (spec.kind === 'grpc-js') return grpcJs(spec, target);
  return h2(spec, target, dialNet(network, address));
}

export interface StreamChannel {
  channel: grpc.ChannelInterface;
  /** The bridge socket (grpc-js kind only), for whoever must remove it if the process dies. */
  bridgePath: string | undefined;
  /** Releases the bridge (after the channel is closed); nothing to do for the loopp kind. */
  release(): Promise<void>;
}

/** A channel whose every connection is a stream from `open` (a yamux stream). */
export async function openStreamChannel(spec: ChannelSpec, open: () => Promise<Duplex>, bridge: { dir?: string; label: string }): Promise<StreamChannel> {
  if (spec.kind === 'loopp') {
    return { channel: h2(spec, `yamux:${bridge.label}`, () => open()), bridgePath: undefined, release: () => Promise.resolve() };
  }
  const b = await createBridge(open, { dir: bridge.dir, log: spec.log, label: bridge.label });
  return { channel: grpcJs(spec, grpcTarget('unix', b.path)), bridgePath: b.path, release: () => b.close() };
}

/** Throws ConfigError ERR_LOOPP_CONFIG unless `kind` is undefined or a ChannelKind. */
export function requireChannelKind(caller: string, kind: unknown): void {
  if (kind === undefined || CHANNEL_KINDS.includes(kind as ChannelKind)) return;
  throw new ConfigError('ERR_LOOPP_CONFIG', `${caller}: grpcChannel must be 'loopp' or 'grpc-js'`, {
    input: kind,
    hint: "Leave it out for loopp's own channel; 'grpc-js' selects grpc-js's Channel.",
  });
}
