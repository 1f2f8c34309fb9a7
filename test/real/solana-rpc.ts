/**
 * A fake Solana JSON-RPC (HTTP POST, JSON-RPC 2.0) on 127.0.0.1 for the real chainlink-solana relayer.
 * Slots advance with the wall clock (a slot that never moves makes MultiNode report "no new heads");
 * every block is a pure function of its slot, so a test can compute what LatestHead must say. The
 * methods are the ones this plugin was seen to call (docs/loop.md); any other is recorded in
 * `unknown` and answered with JSON-RPC error -32601. stop() is "RPC down" (connection refused);
 * start() brings it back on the same port.
 */
import { createHash } from 'node:crypto';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { base58 } from './base58';

export interface FakeBlock {
  slot: number;
  blockHeight: number;
  /** Unix seconds. */
  blockTime: number;
  /** base58 of 32 bytes. */
  blockhash: string;
}

export interface RpcCall {
  method: string;
  params: unknown[];
  atMs: number;
}

export interface FakeAccount {
  data: Buffer;
  owner: string;
  lamports?: number;
}

export interface FakeSolanaRpcOptions {
  slotMs?: number;
  startSlot?: number;
  /** base58; the plugin maps an unknown genesis hash to the network name `localnet`. */
  genesisHash?: string;
  /** Lamports by base58 account; others get `defaultBalance`. */
  balances?: Record<string, number>;
  defaultBalance?: number;
  /** Accounts getAccountInfo serves (others: value null). */
  accounts?: Record<string, FakeAccount>;
}

export interface FakeSolanaRpc extends AsyncDisposable {
  readonly url: string;
  readonly port: number;
  /** Every request, in arrival order. */
  readonly calls: readonly RpcCall[];
  /** Methods this fake does not know, in arrival order. */
  readonly unknown: readonly string[];
  readonly running: boolean;
  currentSlot(): number;
  /** Slot of the last getBlock answered with a block. */
  lastServedBlockSlot(): number | undefined;
  called(method: string): RpcCall[];
  /** RPC down: refuses connections until start(). */
  stop(): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
}

/** Blocks of this fake: heights lag slots by the skipped slots, block times advance 400 ms per slot. */
export function fakeBlock(slot: number): FakeBlock {
  return {
    slot,
    blockHeight: slot - 4_321,
    blockTime: 1_700_000_000 + Math.floor((slot * 2) / 5),
    blockhash: base58(createHash('sha256').update(`loopp-fake-solana/${slot}`).digest()),
  };
}

export const FAKE_GENESIS_HASH = base58(createHash('sha256').update('loopp-fake-solana/genesis').digest());

class RpcError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

type Handler = (params: unknown[]) => unknown;

function handlers(o: Required<Omit<FakeSolanaRpcOptions, 'slotMs' | 'startSlot'>>, slotNow: () => number, served: (slot: number) => void): Record<string, Handler> {
  const context = () => ({ slot: slotNow(), apiVersion: '1.18.26' });
  return {
    getSlot: () => slotNow(),
    getBlockHeight: () => fakeBlock(slotNow()).blockHeight,
    getHealth: () => 'ok',
    getVersion: () => ({ 'solana-core': '1.18.26', 'feature-set': 3469865029 }),
    getGenesisHash: () => o.genesisHash,
    getBalance: (p) => ({ context: context(), value: o.balances[String(p[0])] ?? o.defaultBalance }),
    getLatestBlockhash: () => {
      const b = fakeBlock(slotNow());
      return { context: context(), value: { blockhash: b.blockhash, lastValidBlockHeight: b.blockHeight + 150 } };
    },
    getBlock: (p) => {
      const slot = Number(p[0]);
      if (!Number.isSafeInteger(slot) || slot > slotNow()) throw new RpcError(-32004, `Block not available for slot ${String(p[0])}`);
      const b = fakeBlock(slot);
      served(slot);
      const parent = fakeBlock(slot - 1);
      return { blockHeight: b.blockHeight, blockTime: b.blockTime, blockhash: b.blockhash, parentSlot: slot - 1, previousBlockhash: parent.blockhash, transactions: [], rewards: [] };
    },
    getAccountInfo: (p) => {
      const a = o.accounts[String(p[0])];
      if (a === undefined) return { context: context(), value: null };
      // The transmissions cache reads the header and the latest transmission as slices.
      const slice = (p[1] as { dataSlice?: { offset: number; length: number } } | undefined)?.dataSlice;
      const data = slice === undefined ? a.data : a.data.subarray(slice.offset, slice.offset + slice.length);
      return {
        context: context(),
        value: { data: [data.toString('base64'), 'base64'], executable: false, lamports: a.lamports ?? 1_000_000, owner: a.owner, rentEpoch: 0, space: a.data.length },
      };
    },
  };
}

interface JsonRpcRequest {
  id?: unknown;
  method?: unknown;
  params?: unknown;
}

export async function startFakeSolanaRpc(options: FakeSolanaRpcOptions = {}): Promise<FakeSolanaRpc> {
  const slotMs = options.slotMs ?? 400;
  const startSlot = options.startSlot ?? 250_000;
  const t0 = Date.now();
  const calls: RpcCall[] = [];
  const unknown: string[] = [];
  let lastBlock: number | undefined;
  const slotNow = () => startSlot + Math.floor((Date.now() - t0) / slotMs);
  const table = handlers(
    { genesisHash: options.genesisHash ?? FAKE_GENESIS_HASH, balances: options.balances ?? {}, defaultBalance: options.defaultBalance ?? 2_500_000_000, accounts: options.accounts ?? {} },
    slotNow,
    (s) => (lastBlock = s),
  );

  const answer = (req: JsonRpcRequest): unknown => {
    const id = req.id ?? null;
    const method = typeof req.method === 'string' ? req.method : '';
    const params = Array.isArray(req.params) ? (req.params as unknown[]) : [];
    calls.push({ method, params, atMs: Date.now() - t0 });
    const h = Object.hasOwn(table, method) ? table[method] : undefined;
    if (h === undefined) {
      unknown.push(method);
      return { jsonrpc: '2.0', id, error: { code: -32601, message: `Method not found: ${method}` } };
    }
    try {
      return { jsonrpc: '2.0', id, result: h(params) };
    } catch (e) {
      const code = e instanceof RpcError ? e.code : -32603;
      return { jsonrpc: '2.0', id, error: { code, message: e instanceof Error ? e.message : String(e) } };
    }
  };

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let body: unknown;
      try {
        const parsed: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        body = Array.isArray(parsed) ? parsed.map((r) => answer(r as JsonRpcRequest)) : answer(parsed as JsonRpcRequest);
      } catch {
        body = { jsonrpc: '2.0', id: null, error: { code: -32700, message: 'Parse error' } };
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    });
  });

  let port = 0;
  let running = false;
  const listen = () =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        port = (server.address() as AddressInfo).port;
        running = true;
        resolve();
      });
    });
  const stop = async () => {
    if (!running) return;
    running = false;
    const closed = new Promise<void>((r) => server.close(() => r()));
    server.closeAllConnections();
    await closed;
  };
  await listen();

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    calls,
    unknown,
    get running() {
      return running;
    },
    currentSlot: slotNow,
    lastServedBlockSlot: () => lastBlock,
    called: (m) => calls.filter((c) => c.method === m),
    stop,
    start: async () => {
      if (!running) await listen();
    },
    close: stop,
    [Symbol.asyncDispose]: stop,
  };
}
