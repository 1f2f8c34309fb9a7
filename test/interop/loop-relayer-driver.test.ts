/**
 * loopp's typed relayer host against chainlink-common v1.3.1's driver `-cmd=relayer -static-checks`:
 * every method the driver serves, with the driver's fixtures (pkg/loop/internal/relayer/test and
 * pluginprovider/*\/test) as the expected values. The driver checks what it is sent (relay args,
 * plugin args, page size, Transact's arguments) and refuses anything else.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { LOOP_KINDS, LoopError, LoopRegistry, LoopService, newCmdFactory, relayerLoopPlugin, type Keystore, type PluginRelayerHost, type RelayerHandle } from '../../src/loop/index';
import { childPids, goBinary } from '../helpers';
import { bytesAt, staticMedianProvider } from './median-fixtures';
import { checkConfigProvider, checkMedianProvider } from './relayer-provider-checks';

const keystore = (accounts: string[]): Keystore => ({ accounts: () => accounts, sign: (_a, d) => Buffer.from(d) });
/** relayer/test/test.go */
export const DRIVER_RELAY_ARGS = { externalJobID: '1051429b-aa66-11ed-b0d2-5cff35dfbe67', jobID: 123, contractID: 'testcontract', new: true, relayConfig: bytesAt(43, { 42: 11 }) };
export const DRIVER_PLUGIN_ARGS = { transmitterID: 'testtransmitter', pluginConfig: bytesAt(101, { 100: 88 }) };

function rejectsWith(p: Promise<unknown>, code: string, method: string, message: string | RegExp) {
  return assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof LoopError, String(e));
    assert.equal(e.code, code);
    assert.equal(e.input, method);
    if (typeof message === 'string') assert.equal(e.message, message);
    else assert.match(e.message, message);
    return true;
  });
}

describe('TS host -> driver -cmd=relayer -static-checks: the whole Relayer', () => {
  let svc: LoopService<PluginRelayerHost, RelayerHandle>;
  let relayer: RelayerHandle;
  before(async () => {
    const registry = new LoopRegistry();
    const factory = await newCmdFactory((n) => registry.register(n), { id: 'relayer.driver', cmd: goBinary('loop-test-plugin'), args: ['-cmd=relayer', '-static-checks'] });
    svc = new LoopService<PluginRelayerHost, RelayerHandle>({
      name: 'RelayerService',
      kind: LOOP_KINDS.relayer,
      cmdFactory: factory,
      plugin: relayerLoopPlugin(),
      newService: (host) => host.newRelayer({ config: '[Foo]\nBar = "Baz"\n', keystore: keystore(['acct-1']), csaKeystore: keystore(['csa-1']) }),
      pingIntervalMs: 300,
    });
    svc.start();
    relayer = await svc.wait({ signal: AbortSignal.timeout(20_000) });
  });
  after(async () => {
    await svc.close();
    assert.deepEqual(childPids(), []);
  });

  it('GetChainStatus, GetChainInfo', async () => {
    assert.deepEqual(await relayer.getChainStatus(), { id: 'some_chain', enabled: true, config: '' });
    assert.deepEqual(await relayer.getChainInfo(), { familyName: 'someFamily', chainId: '123', networkName: 'someNetwork', networkNameFull: 'someNetwork-test' });
  });

  it('ListNodeStatuses(137): two nodes; another page size or a page token is refused with the driver text', async () => {
    assert.deepEqual(await relayer.listNodeStatuses(137), {
      nodes: [
        { chainID: 'foo', name: '', config: "Name = 'bar'\nURL = 'http://example.com'\n", state: 'Alive' },
        { chainID: 'foo', name: '', config: "Name = 'baz'\nURL = 'https://test.url'\n", state: 'Alive' },
      ],
      total: 2,
      nextPageToken: '',
    });
    await rejectsWith(relayer.listNodeStatuses(10), 'ERR_LOOPP_LOOP_CALL', 'Relayer.ListNodeStatuses', 'Relayer.ListNodeStatuses: expected page_size 137 but got 10');
    await rejectsWith(relayer.listNodeStatuses(137, 'p2'), 'ERR_LOOPP_LOOP_CALL', 'Relayer.ListNodeStatuses', 'Relayer.ListNodeStatuses: expected empty page_token but got "p2"');
  });

  it('Transact (me -> you, 97, balance check) and Replay; wrong arguments are refused', async () => {
    await relayer.transact({ from: 'me', to: 'you', amount: 97n, balanceCheck: true });
    await rejectsWith(relayer.transact({ from: 'me', to: 'you', amount: 98n, balanceCheck: true }), 'ERR_LOOPP_LOOP_CALL', 'Relayer.Transact', 'Relayer.Transact: expected amount 97 but got 98');
    await relayer.replay({ fromBlock: '', args: { a: 1, b: ['x'] } });
    await rejectsWith(relayer.replay({ fromBlock: '12', args: {} }), 'ERR_LOOPP_LOOP_CALL', 'Relayer.Replay', 'Relayer.Replay: expected from  but got 12');
  });

  it('LatestHead, FinalizedHead: the driver\'s "not implemented" as a typed error', async () => {
    await rejectsWith(relayer.latestHead(), 'ERR_LOOPP_LOOP_CALL', 'Relayer.LatestHead', 'Relayer.LatestHead: not implemented');
    await rejectsWith(relayer.finalizedHead(), 'ERR_LOOPP_LOOP_CALL', 'Relayer.FinalizedHead', 'Relayer.FinalizedHead: not implemented');
  });

  it('NewConfigProvider: digester and tracker answer the ocr2 fixtures', async () => {
    const p = await relayer.newConfigProvider({ relayArgs: { ...DRIVER_RELAY_ARGS, providerType: 'median' } });
    try {
      assert.ok(p.id > 0);
      await p.ready();
      assert.deepEqual(Object.values(await p.healthReport()), [null]);
      await checkConfigProvider(p, staticMedianProvider());
    } finally {
      await p.close();
    }
  });

  it('NewPluginProvider(median): every sub-service answers the median fixtures; id and channel exposed', async () => {
    const p = await relayer.newPluginProvider({ providerType: 'median', relayArgs: DRIVER_RELAY_ARGS, pluginArgs: DRIVER_PLUGIN_ARGS });
    try {
      assert.ok(p.id > 0 && p.id !== relayer.id, `provider id ${p.id}`);
      assert.equal(typeof p.channel.getConnectivityState, 'function');
      await p.ready();
      await checkMedianProvider(p, staticMedianProvider());
    } finally {
      await p.close();
    }
    await p.close(); // idempotent
  });

  it('NewPluginProvider with other relay args: the driver refuses, typed', async () => {
    await rejectsWith(
      relayer.newPluginProvider({ providerType: 'median', relayArgs: { ...DRIVER_RELAY_ARGS, jobID: 1 }, pluginArgs: DRIVER_PLUGIN_ARGS }),
      'ERR_LOOPP_LOOP_CALL',
      'Relayer.NewPluginProvider',
      /^Relayer\.NewPluginProvider: expected relay args:/,
    );
  });

  it('NewContractReader("test"): GetLatestValue, Bind, Unbind; another config is refused', async () => {
    const cr = await relayer.newContractReader('test');
    try {
      assert.deepEqual(await cr.getLatestValue('0x24-anyContract-anyMethod', 0, { param1: 'value1', param2: 'value2' }), { ret1: 'latestValue1', ret2: 'latestValue2' });
      await cr.bind([{ address: '0x24', name: 'anyContract' }]);
      await cr.unbind([{ address: '0x24', name: 'anyContract' }]);
      assert.deepEqual(await cr.batchGetLatestValues([]), []);
    } finally {
      await cr.close();
    }
    await rejectsWith(relayer.newContractReader('other'), 'ERR_LOOPP_LOOP_CALL', 'Relayer.NewContractReader', 'Relayer.NewContractReader: expected contractReaderConfig:\n\ttest\nbut got:\n\tother');
  });

  it('NewContractWriter: the driver\'s "not implemented"', async () => {
    await rejectsWith(relayer.newContractWriter('{}'), 'ERR_LOOPP_LOOP_CALL', 'Relayer.NewContractWriter', 'Relayer.NewContractWriter: not implemented');
  });
});
