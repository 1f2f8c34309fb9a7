/** Helpers of the security tests: a plugin launched by hand (the test plays the host) and one health check. */
import * as fs from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import { HealthClient } from '../../src/gen';
import { decodeHandshakeCert } from '../../src/net/mtls/cert';
import { parseHandshakeLine, type Handshake } from '../../src/wire/handshake';
import { generateCertificate, type CertificateBundle } from '../../src/net/mtls/cert';
import { MTLS_SERVER_NAME, channelCredentials, type MtlsChannel } from '../../src/net/grpc/credentials';
import { launchByHand, type LaunchedByHand } from '../helpers';

export const COOKIE_ENV = { BASIC_PLUGIN: 'hello', PLUGIN_PROTOCOL_VERSIONS: '1' } as const;

export interface ByHand {
  child: LaunchedByHand['child'];
  handshake: Handshake<Buffer>;
  stderr(): string;
  /** SIGKILL, then remove the main socket (a killed plugin cannot, and there is no host to do it). */
  stop(): Promise<void>;
}

/** Runs `node <script>` with exactly `env` and resolves with its parsed handshake line. */
export async function launchPlugin(script: string, env: NodeJS.ProcessEnv, muxRequested = false): Promise<ByHand> {
  const { child, line, stderr } = await launchByHand(script, env);
  const handshake = parseHandshakeLine(line, { hostVersions: [1], muxRequested, decodeServerCert: decodeHandshakeCert });
  return {
    child,
    handshake,
    stderr,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await new Promise((r) => child.once('close', r));
      }
      if (handshake.network === 'unix') fs.rmSync(handshake.address, { force: true });
    },
  };
}

/** grpc.health.v1 Check("plugin") against `target`; resolves with the error, or null when answered. */
export function healthCheck(target: string, creds: grpc.ChannelCredentials, options: grpc.ChannelOptions = {}): Promise<grpc.ServiceError | null> {
  const client = new HealthClient(target, creds, options);
  return new Promise((resolve) => {
    client.check({ service: 'plugin' }, new grpc.Metadata(), { deadline: Date.now() + 5000 }, (err) => {
      client.close();
      resolve(err);
    });
  });
}

export type Caller = 'the peer' | 'a stranger (another self-signed P-521 certificate)' | 'a TLS client without a certificate' | 'a plaintext client';
export const INTRUDERS: readonly Caller[] = ['a stranger (another self-signed P-521 certificate)', 'a TLS client without a certificate', 'a plaintext client'];

/** Channel credentials for `who`, dialling a server whose certificate is `serverPem`; `peer` is the legitimate client. */
export function credentialsOf(who: Caller, peer: CertificateBundle, serverPem: string): MtlsChannel {
  switch (who) {
    case 'the peer':
      return channelCredentials(peer, serverPem);
    case 'a stranger (another self-signed P-521 certificate)':
      return channelCredentials(generateCertificate(), serverPem);
    case 'a TLS client without a certificate':
      return {
        credentials: grpc.credentials.createSsl(Buffer.from(serverPem)),
        options: { 'grpc.ssl_target_name_override': MTLS_SERVER_NAME, 'grpc.default_authority': MTLS_SERVER_NAME },
        tls: { ca: [serverPem], servername: MTLS_SERVER_NAME },
      };
    case 'a plaintext client':
      return { credentials: grpc.credentials.createInsecure(), options: {}, tls: undefined };
  }
}
