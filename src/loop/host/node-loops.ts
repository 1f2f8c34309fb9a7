/**
 * The two LOOPs of the seed as a Chainlink node starts them: one relayer LOOP per chain (id
 * `<network>.<chainID>`, the newest node's RelayID name) and one median LOOP per job (id
 * `Median.<contractID>.<jobID>`), each only when the node would run it as a LOOP (loop-switch.ts).
 */
import type { Logger } from '../../core/logger';
import { ConfigError } from '../../core/errors';
import { relayerLoopPlugin } from '../relayer';
import { LOOP_KINDS } from '../wire/handshakes';
import type { PluginKind } from '../wire/env-file';
import { startConfiguredLoop, type EnvSource, type StartConfiguredLoopOptions } from './loop-switch';
import { medianLoopPlugin, type MedianFactoryHandle, type NewMedianFactoryOptions, type PluginMedianHost } from './median';
import { minOcr2MaxDurationQueryNs } from './query-deadline';
import type { NewRelayerOptions, PluginRelayerHost, RelayerHandle } from './relayer';
import type { LoopHostedService, LoopService } from './service';

type Passed<C, S extends LoopHostedService> = Omit<StartConfiguredLoopOptions<C, S>, 'pluginKind' | 'id' | 'kind' | 'plugin' | 'newService'>;

export interface StartRelayerLoopOptions extends Passed<PluginRelayerHost, RelayerHandle> {
  /** The relayer's network, which is also its plugin kind: solana, evm, aptos, cosmos, starknet, tron, ton, sui. */
  network: Exclude<PluginKind, 'median' | 'mercury'>;
  chainID: string;
  relayer: Omit<NewRelayerOptions, 'signal'>;
}

/** The relayer LOOP for one chain, started, or `undefined` when CL_<NETWORK>_CMD is unset for solana or evm. */
export function startRelayerLoop(o: StartRelayerLoopOptions): Promise<LoopService<PluginRelayerHost, RelayerHandle> | undefined> {
  const { network, chainID, relayer, ...rest } = o;
  if ((network as string) === 'median' || (network as string) === 'mercury') {
    throw new ConfigError('ERR_LOOPP_CONFIG', `${network} is not a relayer network`, { input: network, hint: 'use startMedianLoop for median' });
  }
  return startConfiguredLoop({
    name: 'RelayerService',
    ...rest,
    pluginKind: network,
    id: `${network}.${chainID}`,
    kind: LOOP_KINDS.relayer,
    plugin: relayerLoopPlugin(),
    newService: (host) => host.newRelayer(relayer),
  });
}

export interface StartMedianLoopOptions extends Passed<PluginMedianHost, MedianFactoryHandle> {
  contractID: string;
  jobID: string | number;
  /** The job's relay network; for `solana` the node's CL_MIN_OCR2_MAX_DURATION_QUERY applies. */
  relay: string;
  factory: Omit<NewMedianFactoryOptions, 'contractID' | 'minMaxDurationQueryNs' | 'logger' | 'signal'>;
  /** Also receives the MaxDurationQuery warning. */
  logger?: Logger;
}

/** The median LOOP for one job, started, or `undefined` when CL_MEDIAN_CMD is unset. */
export function startMedianLoop(o: StartMedianLoopOptions): Promise<LoopService<PluginMedianHost, MedianFactoryHandle> | undefined> {
  const { contractID, jobID, relay, factory, ...rest } = o;
  const env: EnvSource = o.env ?? process.env;
  // Parsed before anything starts: a bad value fails the job, as in the node.
  const minMaxDurationQueryNs = relay === 'solana' ? minOcr2MaxDurationQueryNs(env) : undefined;
  return startConfiguredLoop({
    name: 'MedianService',
    ...rest,
    pluginKind: 'median',
    id: `Median.${contractID}.${jobID}`,
    kind: LOOP_KINDS.median,
    plugin: medianLoopPlugin(),
    newService: (host) => host.newMedianFactory({ ...factory, contractID, minMaxDurationQueryNs, logger: o.logger }),
  });
}
