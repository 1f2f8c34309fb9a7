import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { Broker } from '../../src/shared/broker';
import { transportCredentials } from '../../src/net/grpc/credentials';
import { type ConnInfo } from '../../src/gen';
import { listenUnix } from '../../src/net/transport';
import { rmDir, tmpDir } from '../helpers';

/** A StartStream stand-in that records what the broker writes. */
class FakeStream extends EventEmitter {
  written: ConnInfo[] = [];
  write(m: ConnInfo): boolean {
    this.written.push(m);
    return true;
  }
}

describe('GrpcBroker before its stream is attached', () => {
  it('holds a ConnInfo sent before StartStream arrives and delivers it on attach (as Go does)', async () => {
    const dir = tmpDir('loopp-broker-unit-');
    const broker = new Broker({
      side: 'plugin',
      transport: {
        listen: () => listenUnix({ dir }),
        credentials: transportCredentials(undefined),
      },
    });
    try {
      const id = broker.nextId();
      const served = await broker.acceptAndServe(id, () => {});
      const stream = new FakeStream();
      broker.attach(stream);
      assert.equal(stream.written.length, 1);
      assert.equal(stream.written[0]?.serviceId, id);
      assert.equal(stream.written[0]?.network, 'unix');
      await served.close();
    } finally {
      await broker.close();
      rmDir(dir);
    }
  });
});
