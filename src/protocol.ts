/**
 * loopp/protocol — the go-plugin protocol's building blocks, for tools that speak it piece by piece
 * (a checker, a test double, a plugin that must break a rule on purpose). Applications use `loopp`.
 */

/**** Handshake line and version negotiation ****/
export { CORE_PROTOCOL_VERSION, HEALTH_SERVICE_NAME } from './core/constants';
export { parseHandshakeLine, formatHandshakeLine, negotiateVersion, announcedSocketPath, DIAGNOSE_TEXT } from './wire/handshake';
export type { Handshake, ParseHandshakeOptions, FormatHandshakeOptions, Network } from './wire/handshake';

/**** Environment contract ****/
export { ENV, buildPluginEnv, readPluginEnv, checkMagicCookie } from './wire/env';
export type { BuildPluginEnvOptions, PluginEnv, HandshakeConfig } from './wire/env';

/**** AutoMTLS certificates ****/
export { generateCertificate, encodeHandshakeCert, decodeHandshakeCert, derToPem, pemToDer } from './net/mtls/cert';
export type { CertificateBundle, GenerateCertificateOptions } from './net/mtls/cert';

/**** Log lines ****/
export { formatHclogLine, createStderrParser } from './wire/hclog';
export type { HclogEntry, ParsedLogLine, StderrParser, UnleveledEntry } from './wire/hclog';

/**** Multiplexing ****/
export { YamuxError } from './net/yamux/errors';
export type { YamuxErrorKind } from './net/yamux/errors';
