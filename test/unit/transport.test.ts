import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { grpcTarget, netConnectOptions } from '../../src/net/transport';

describe('handshake addresses as dial targets', () => {
  it('netConnectOptions: socket path, host:port, :port on the local host, bracketed IPv6', () => {
    assert.deepEqual(netConnectOptions('unix', '/tmp/plugin1'), { path: '/tmp/plugin1' });
    assert.deepEqual(netConnectOptions('tcp', '127.0.0.1:10000'), { host: '127.0.0.1', port: 10000 });
    assert.deepEqual(netConnectOptions('tcp', ':10001'), { host: '127.0.0.1', port: 10001 });
    assert.deepEqual(netConnectOptions('tcp', '[::1]:10002'), { host: '::1', port: 10002 });
  });

  it('grpcTarget: unix:// for sockets, the local host spelled out for :port', () => {
    assert.equal(grpcTarget('unix', '/tmp/plugin1'), 'unix:///tmp/plugin1');
    assert.equal(grpcTarget('tcp', ':10001'), '127.0.0.1:10001');
    assert.equal(grpcTarget('tcp', '[::1]:10002'), '[::1]:10002');
  });
});
