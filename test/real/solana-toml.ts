/**
 * The relayer config chainlink-solana's NewRelayer decodes: the node's `[Solana]` table with every
 * default filled in (the plugin decodes strictly and does not apply defaults itself: a missing
 * FeeEstimatorMode panics in Txm.Start). The values are the defaults of the snapshot we build
 * (commit ee601d69: pkg/solana/config/config.go `defaultConfigSet`, multinode.go `SetDefaults`),
 * durations written as Go's time.Duration prints them.
 */

export type TomlValue = string | number | boolean;

export const SOLANA_CHAIN_DEFAULTS: Readonly<Record<string, TomlValue>> = {
  BalancePollPeriod: '5s',
  ConfirmPollPeriod: '500ms',
  OCR2CachePollPeriod: '1s',
  OCR2CacheTTL: '1m0s',
  TxTimeout: '1m0s',
  TxRetryTimeout: '10s',
  TxConfirmTimeout: '30s',
  SkipPreflight: true,
  Commitment: 'confirmed',
  MaxRetries: 0,
  FeeEstimatorMode: 'fixed',
  ComputeUnitPriceMax: 1000,
  ComputeUnitPriceMin: 0,
  ComputeUnitPriceDefault: 0,
  FeeBumpPeriod: '3s',
  BlockHistoryPollPeriod: '5s',
  ComputeUnitLimitDefault: 200_000,
  EstimateComputeUnitLimit: false,
};

export const SOLANA_MULTINODE_DEFAULTS: Readonly<Record<string, TomlValue>> = {
  Enabled: false,
  PollFailureThreshold: 5,
  PollInterval: '10s',
  SelectionMode: 'PriorityLevel',
  SyncThreshold: 5,
  NodeIsSyncingEnabled: false,
  LeaseDuration: '1m0s',
  FinalizedBlockPollInterval: '5s',
  EnforceRepeatableRead: true,
  DeathDeclarationDelay: '10s',
  NodeNoNewHeadsThreshold: '10s',
  NoNewFinalizedHeadsThreshold: '10s',
  FinalityDepth: 0,
  FinalityTagEnabled: true,
  FinalizedBlockOffset: 0,
};

export interface SolanaNode {
  name: string;
  url: string;
  sendOnly?: boolean;
}

export interface SolanaTomlOptions {
  chainId: string;
  nodes: readonly SolanaNode[];
  multiNodeEnabled?: boolean;
  /** Replace or add `[Solana]` keys (an unknown key is passed through: the plugin rejects it). */
  chain?: Readonly<Record<string, TomlValue>>;
  /** Replace or add `[Solana.MultiNode]` keys. */
  multiNode?: Readonly<Record<string, TomlValue>>;
}

function tomlValue(v: TomlValue): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number' && !Number.isSafeInteger(v)) throw new RangeError(`not an integer: ${v}`);
  return String(v);
}

function lines(table: Readonly<Record<string, TomlValue>>): string[] {
  return Object.entries(table).map(([k, v]) => `${k} = ${tomlValue(v)}`);
}

export function solanaRelayerToml(o: SolanaTomlOptions): string {
  const multiNode = { ...SOLANA_MULTINODE_DEFAULTS, ...(o.multiNodeEnabled === undefined ? {} : { Enabled: o.multiNodeEnabled }), ...o.multiNode };
  const out = ['[Solana]', `ChainID = ${tomlValue(o.chainId)}`, 'Enabled = true', ...lines({ ...SOLANA_CHAIN_DEFAULTS, ...o.chain }), '', '[Solana.MultiNode]', ...lines(multiNode)];
  for (const n of o.nodes) out.push('', '[[Solana.Nodes]]', `Name = ${tomlValue(n.name)}`, `URL = ${tomlValue(n.url)}`, `SendOnly = ${n.sendOnly ?? false}`);
  return out.join('\n') + '\n';
}
