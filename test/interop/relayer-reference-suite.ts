/**
 * One host test suite for every relayer LOOP that serves fixtures/relayer/reference.json (the Go
 * reference relayer-ref-go and the TS relayer-loop-ts): loopp's typed RelayerHandle calls every
 * method and asserts the reference's values, including its error codes and texts.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { LOOP_KINDS, LoopError, LoopRegistry, LoopService, newCmdFactory, relayerLoopPlugin, type Keystore, type PluginRelayerHost, type RelayerHandle } from '../../src/loop/index';
import { childPids } from '../helpers';

export const REFERENCE_FILE = path.resolve(__dirname, '../../../fixtures/relayer/reference.json');
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const REF = JSON.parse(readFileSync(REFERENCE_FILE, 'utf8')) as any;
const hex = (h: string) => Buffer.from(h, 'hex');
const keystore = (accounts: string[]): Keystore => ({ accounts: () => accounts, sign: (_a, d) => Buffer.from(d) });

/** `p` rejects with a LoopError for `method` whose gRPC status is {code, message} of the reference. */
export function rejectsWithStatus(p: Promise<unknown>, method: string, want: { code: string; message: string }, loopCode = 'ERR_LOOPP_LOOP_CALL') {
  return assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof LoopError, String(e));
    assert.equal(e.code, loopCode);
    assert.equal(e.input, method);
    assert.equal(e.message, `${method}${loopCode === 'ERR_LOOPP_LOOP_UNIMPLEMENTED' ? ' is not implemented by the LOOP' : ''}: ${want.message}`);
    const codes: Record<string, number> = { InvalidArgument: 3, NotFound: 5, AlreadyExists: 6, FailedPrecondition: 9, Unimplemented: 12 };
    assert.equal((e.cause as { code?: number }).code, codes[want.code], `gRPC code of ${method}`);
    return true;
  });
}

export interface ReferencePeer {
  name: string;
  cmd: () => string;
  args?: string[];
  /** grpc-js's channel on the host and, for the TS relayer, grpc-js's server and channel in the plugin. */
  grpcJs?: boolean;
}

const relayArgs = () => ({ ...REF.relayArgs, relayConfig: Buffer.from(REF.relayArgs.relayConfig) });
const pluginArgs = () => ({ transmitterID: REF.pluginArgs.transmitterID, pluginConfig: Buffer.from(REF.pluginArgs.pluginConfig) });
const binding = () => ({ ...REF.contractReader.binding });

export function referenceSuite(peer: ReferencePeer): void {
  describe(`TS host -> ${peer.name}${peer.grpcJs === true ? ' (grpc-js channel and server)' : ''}: every Relayer method answers reference.json`, () => {
    let svc: LoopService<PluginRelayerHost, RelayerHandle>;
    let relayer: RelayerHandle;
    before(async () => {
      const registry = new LoopRegistry();
      const env: Array<[string, string]> = peer.grpcJs === true ? [['LOOPP_GRPC_JS', '1']] : [];
      const factory = await newCmdFactory((n) => registry.register(n), { id: `relayer.${peer.name}`, cmd: peer.cmd(), args: peer.args ?? [], env });
      svc = new LoopService<PluginRelayerHost, RelayerHandle>({
        name: 'RelayerService',
        kind: LOOP_KINDS.relayer,
        cmdFactory: factory,
        plugin: relayerLoopPlugin(),
        newService: (host) => host.newRelayer({ config: `ReferenceFile = ${JSON.stringify(REFERENCE_FILE)}\n`, keystore: keystore(['a']), csaKeystore: keystore(['c']) }),
        pingIntervalMs: 300,
        ...(peer.grpcJs === true ? { grpcChannel: 'grpc-js' as const } : {}),
      });
      svc.start();
      relayer = await svc.wait({ signal: AbortSignal.timeout(20_000) });
    });
    after(async () => {
      await svc.close();
      assert.deepEqual(childPids(), []);
    });

    it('chain status, chain info, latest and finalized heads', async () => {
      assert.deepEqual(await relayer.getChainStatus(), REF.chainStatus);
      const ci = REF.chainInfo;
      assert.deepEqual(await relayer.getChainInfo(), { familyName: ci.familyName, chainId: ci.chainID, networkName: ci.networkName, networkNameFull: ci.networkNameFull });
      for (const [got, want] of [[await relayer.latestHead(), REF.latestHead], [await relayer.finalizedHead(), REF.finalizedHead]]) {
        assert.deepEqual(got, { height: want.height, hash: hex(want.hash), timestamp: want.timestamp });
      }
    });

    it('ListNodeStatuses: every page of pageSize, then a bad token', async () => {
      const size = REF.listNodeStatuses.pageSize as number;
      const seen: unknown[] = [];
      const tokens: string[] = [];
      let token = '';
      do {
        tokens.push(token);
        const page = await relayer.listNodeStatuses(size, token);
        assert.equal(page.total, REF.nodes.length);
        assert.ok(page.nodes.length <= size);
        seen.push(...page.nodes);
        token = page.nextPageToken;
      } while (token !== '' && tokens.length < 10);
      assert.deepEqual(tokens, ['', '2', '4']);
      assert.deepEqual(seen, REF.nodes);
      assert.deepEqual((await relayer.listNodeStatuses(0)).nodes, REF.nodes);
      await rejectsWithStatus(relayer.listNodeStatuses(size, REF.listNodeStatuses.badPageToken), 'Relayer.ListNodeStatuses', REF.listNodeStatuses.badPageTokenError);
    });

    it('Transact and Replay: what the relayer received, through the echo sentinels', async () => {
      const t = REF.transact;
      const echoT = () => relayer.transact({ from: '', to: t.echoTo, amount: 0n, balanceCheck: false });
      await rejectsWithStatus(echoT(), 'Relayer.Transact', t.echoErrorNone);
      await relayer.transact({ from: t.call.from, to: t.call.to, amount: BigInt(t.call.amount), balanceCheck: t.call.balanceCheck });
      await rejectsWithStatus(echoT(), 'Relayer.Transact', t.echoError);
      const r = REF.replay;
      const echoR = () => relayer.replay({ fromBlock: r.echoFromBlock, args: {} });
      await rejectsWithStatus(echoR(), 'Relayer.Replay', r.echoErrorNone);
      await relayer.replay({ fromBlock: r.call.fromBlock, args: r.call.args });
      await rejectsWithStatus(echoR(), 'Relayer.Replay', r.echoError);
    });

    it('NewConfigProvider: digester and tracker', async () => {
      const p = await relayer.newConfigProvider({ relayArgs: relayArgs() });
      try {
        const c = REF.configProvider;
        const cc = c.contractConfig;
        const contractConfig = { configDigest: hex(cc.configDigest), configCount: cc.configCount, signers: cc.signers.map(hex), transmitters: cc.transmitters, F: cc.f, onchainConfig: hex(cc.onchainConfig), offchainConfigVersion: cc.offchainConfigVersion, offchainConfig: hex(cc.offchainConfig) };
        assert.deepEqual(await p.offchainConfigDigester.configDigest(contractConfig), hex(c.configDigest));
        assert.equal(await p.offchainConfigDigester.configDigestPrefix(), c.configDigestPrefix);
        assert.deepEqual(await p.contractConfigTracker.latestConfigDetails(), { changedInBlock: c.latestConfigDetails.changedInBlock, configDigest: hex(c.latestConfigDetails.configDigest) });
        assert.deepEqual(await p.contractConfigTracker.latestConfig(c.latestConfigDetails.changedInBlock), contractConfig);
        assert.equal(await p.contractConfigTracker.latestBlockHeight(), c.latestBlockHeight);
        await p.ready();
      } finally {
        await p.close();
      }
    });

    it('NewPluginProvider(median): every sub-service, a transmit moves the contract, no contract reader', async () => {
      const p = await relayer.newPluginProvider({ providerType: 'median', relayArgs: relayArgs(), pluginArgs: pluginArgs() });
      try {
        const m = REF.median;
        assert.ok(p.id > 0);
        assert.equal(p.contractReader, undefined, 'the reference median provider serves no ContractReader');
        assert.equal(await p.contractTransmitter.fromAccount(), REF.pluginArgs.transmitterID);
        const dae = m.contractTransmitter.latestConfigDigestAndEpoch;
        assert.deepEqual(await p.contractTransmitter.latestConfigDigestAndEpoch(), { configDigest: hex(dae.configDigest), epoch: dae.epoch });
        const rc = m.reportCodec;
        const obs = rc.observations.map((o: { timestamp: number; value: string; juelsPerFeeCoin: string; gasPriceSubunits: string; observer: number }) => ({ timestamp: o.timestamp, value: BigInt(o.value), juelsPerFeeCoin: BigInt(o.juelsPerFeeCoin), gasPriceSubunits: BigInt(o.gasPriceSubunits), observer: o.observer }));
        const report = await p.reportCodec.buildReport(obs);
        assert.equal(report.toString('hex'), rc.report);
        assert.equal(await p.reportCodec.medianFromReport(report), BigInt(rc.median));
        assert.equal(await p.reportCodec.maxReportLength(rc.maxReportLength.n), rc.maxReportLength.max);
        await rejectsWithStatus(p.reportCodec.buildReport([]), 'ReportCodec.BuildReport', rc.emptyError);
        const mc = m.medianContract;
        const td = (d: { configDigest: string; epoch: number; round: number; latestAnswer: string; latestTimestamp: number }) => ({ configDigest: hex(d.configDigest), epoch: d.epoch, round: d.round, latestAnswer: BigInt(d.latestAnswer), latestTimestamp: { seconds: d.latestTimestamp, nanos: 0 } });
        assert.deepEqual(await p.medianContract.latestTransmissionDetails(), td(mc.latestTransmissionDetails));
        const lrr = mc.latestRoundRequested;
        assert.deepEqual(await p.medianContract.latestRoundRequested(lrr.lookbackNanoseconds), { configDigest: hex(lrr.configDigest), epoch: lrr.epoch, round: lrr.round });
        const tr = m.contractTransmitter.transmit;
        const ctx = { reportTimestamp: { configDigest: hex(tr.reportContext.configDigest), epoch: tr.reportContext.epoch, round: tr.reportContext.round }, extraHash: hex(tr.reportContext.extraHash) };
        await p.contractTransmitter.transmit(ctx, report, tr.signatures.map((s: { signature: string; signer: number }) => ({ signature: hex(s.signature), signer: s.signer })));
        assert.deepEqual(await p.medianContract.latestTransmissionDetails(), td(mc.latestTransmissionDetailsAfterTransmit));
        const after = m.contractTransmitter.latestConfigDigestAndEpochAfterTransmit;
        assert.deepEqual(await p.contractTransmitter.latestConfigDigestAndEpoch(), { configDigest: hex(after.configDigest), epoch: after.epoch });
        await rejectsWithStatus(p.contractTransmitter.transmit(ctx, hex(m.contractTransmitter.badReport), []), 'ContractTransmitter.Transmit', m.contractTransmitter.badReportError);
        const oc = m.onchainConfigCodec;
        assert.equal((await p.onchainConfigCodec.encode({ min: BigInt(oc.min), max: BigInt(oc.max) })).toString('hex'), oc.encoded);
        assert.deepEqual(await p.onchainConfigCodec.decode(hex(oc.encoded)), { min: BigInt(oc.min), max: BigInt(oc.max) });
        await rejectsWithStatus(p.onchainConfigCodec.decode(hex(oc.badEncoded)), 'OnchainConfigCodec.Decode', oc.badEncodedError);
      } finally {
        await p.close();
      }
    });

    it('NewContractReader: bind, GetLatestValue, BatchGetLatestValues, QueryKey, QueryKeys, unbind', async () => {
      const cr = await relayer.newContractReader(REF.contractReader.config);
      try {
        const r = REF.contractReader;
        const b = binding();
        const id = (read: string) => `${b.address}-${b.name}-${read}`;
        await rejectsWithStatus(cr.getLatestValue(id(r.getLatestValue.readName), 0, r.getLatestValue.params), 'ContractReader.GetLatestValue', r.unboundError);
        await cr.bind([b]);
        assert.deepEqual(await cr.getLatestValue(id(r.getLatestValue.readName), 0, r.getLatestValue.params), r.reads[r.getLatestValue.readName]);
        await rejectsWithStatus(cr.getLatestValue(id(r.unknownRead), 0, {}), 'ContractReader.GetLatestValue', r.unknownReadError);
        const batch = await cr.batchGetLatestValues([{ contract: b, reads: r.batch.map((readName: string) => ({ readName, params: {} })) }]);
        assert.equal(batch.length, 1);
        assert.deepEqual(batch[0]!.contract, b);
        assert.deepEqual(
          batch[0]!.results.map((x) => [x.readName, x.error === '' ? x.returnVal : x.error]),
          r.batch.map((n: string) => [n, r.reads[n] ?? `not found: ${id(n)}`]),
        );
        const seq = (s: { cursor: string; txHash: string; head: { height: string; hash: string; timestamp: number }; data: unknown }) => ({ cursor: s.cursor, txHash: hex(s.txHash), head: { height: s.head.height, hash: hex(s.head.hash), timestamp: s.head.timestamp }, data: s.data });
        const limit = (count: number) => ({ sortBy: [], limit: { count } });
        const qk = await cr.queryKey(b, { key: r.queryKey.key, expressions: [{ confidence: 'finalized' }, { and: [{ block: { blockNumber: '1000', operator: 'gte' } }, { comparator: { name: 'answer', valueComparators: [{ value: { answer: '1000' }, operator: 'gt' }] } }] }] }, limit(r.queryKey.limit));
        assert.deepEqual(qk, r.sequences[r.queryKey.key].slice(0, r.queryKey.limit).map(seq));
        const qks = await cr.queryKeys(r.queryKeys.keys.map((key: string) => ({ contract: b, filter: { key, expressions: [] } })), limit(r.queryKeys.limit));
        assert.deepEqual(qks, r.queryKeys.keys.flatMap((key: string) => r.sequences[key].map((s: Parameters<typeof seq>[0]) => ({ ...seq(s), key }))));
        await cr.unbind([b]);
        await rejectsWithStatus(cr.getLatestValue(id(r.getLatestValue.readName), 0, {}), 'ContractReader.GetLatestValue', r.unboundError);
      } finally {
        await cr.close();
      }
    });

    it('NewContractWriter: submit, status, duplicate, fees', async () => {
      const cw = await relayer.newContractWriter(REF.contractWriter.config);
      try {
        const w = REF.contractWriter;
        const s = w.submit;
        const statuses = ['unknown', 'pending', 'unconfirmed', 'finalized', 'failed', 'fatal'];
        assert.equal(await cw.getTransactionStatus(s.transactionID), statuses[w.statusBeforeSubmit]);
        const req = { contractName: s.contractName, method: s.method, params: s.args, transactionID: s.transactionID, toAddress: s.toAddress, value: BigInt(s.value) };
        await cw.submitTransaction(req);
        assert.equal(await cw.getTransactionStatus(s.transactionID), statuses[w.statusAfterSubmit]);
        await rejectsWithStatus(cw.submitTransaction(req), 'ContractWriter.SubmitTransaction', w.duplicateError);
        assert.deepEqual(await cw.getFeeComponents(), { executionFee: BigInt(w.feeComponents.executionFee), dataAvailabilityFee: BigInt(w.feeComponents.dataAvailabilityFee) });
        assert.deepEqual(await cw.getEstimateFee({ contractName: s.contractName, method: s.method, params: s.args, toAddress: s.toAddress }), { fee: BigInt(w.estimateFee.fee), decimals: w.estimateFee.decimals });
      } finally {
        await cw.close();
      }
    });
  });
}
