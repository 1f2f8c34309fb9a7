/**
 * A TS plugin served with AutoMTLS admits only the holder of the certificate in PLUGIN_CLIENT_CERT:
 * a stranger's certificate, no certificate, and plaintext are all refused.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { HealthClient } from '../../src/gen/grpc/health/v1/health';
import { parseHandshakeLine } from '../../src/handshake';
import { derToPem, generateCertificate, type CertificateBundle } from '../../src/mtls/cert';
import { channelCredentials } from '../../src/mtls/credentials';
import { grpcTarget } from '../../src/transport';
import { fixture, rmDir, tmpDir } from '../helpers';

let child: ChildProcess;
let host: CertificateBundle;
let pluginPem: string;
let target: string;
let sockDir: string;

before(async () => {
  sockDir = tmpDir('loopp-refusal-');
  host = generateCertificate();
  child = spawn(process.execPath, [fixture('kv-memory')], {
    env: { ...process.env, BASIC_PLUGIN: 'hello', PLUGIN_PROTOCOL_VERSIONS: '1', PLUGIN_CLIENT_CERT: host.certPem, PLUGIN_UNIX_SOCKET_DIR: sockDir },
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const line = await new Promise<string>((resolve) => {
    let buf = '';
    child.stdout?.on('data', (d: Buffer) => {
      buf += d.toString();
      if (buf.includes('\n')) resolve(buf.slice(0, buf.indexOf('\n')));
    });
  });
  const hs = parseHandshakeLine(line, { hostVersions: [1] });
  assert.ok(hs.serverCert);
  pluginPem = derToPem(hs.serverCert);
  target = grpcTarget(hs.network, hs.address);
});
after(async () => {
  child.kill('SIGKILL');
  await new Promise((r) => child.once('close', r));
  rmDir(sockDir);
});

function check(creds: grpc.ChannelCredentials, options: grpc.ChannelOptions = {}): Promise<grpc.ServiceError | null> {
  const client = new HealthClient(target, creds, options);
  return new Promise((resolve) => {
    client.check({ service: 'plugin' }, new grpc.Metadata(), { deadline: Date.now() + 3000 }, (err) => {
      client.close();
      resolve(err);
    });
  });
}

describe('AutoMTLS on a TS plugin', () => {
  it('the host certificate is admitted', async () => {
    const { credentials, options } = channelCredentials(host, pluginPem);
    assert.equal(await check(credentials, options), null);
  });
  it('another self-signed P-521 certificate is refused', async () => {
    const stranger = generateCertificate();
    const { credentials, options } = channelCredentials(stranger, pluginPem);
    const err = await check(credentials, options);
    assert.ok(err);
    assert.equal(err.code, grpc.status.UNAVAILABLE);
  });
  it('a TLS client without a certificate is refused', async () => {
    const err = await check(grpc.credentials.createSsl(Buffer.from(pluginPem)), {
      'grpc.ssl_target_name_override': 'localhost',
      'grpc.default_authority': 'localhost',
    });
    assert.ok(err);
    assert.equal(err.code, grpc.status.UNAVAILABLE);
  });
  it('plaintext is refused', async () => {
    const err = await check(grpc.credentials.createInsecure());
    assert.ok(err);
    assert.equal(err.code, grpc.status.UNAVAILABLE);
  });
});
