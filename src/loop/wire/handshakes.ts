/**
 * go-plugin handshakes of every Chainlink LOOP kind (chainlink-common pkg/loop). None sets a
 * protocol version, so every LOOP speaks app protocol 0. `pluginName` is the plugin-map key the host
 * dispenses.
 */
import type { HandshakeConfig } from '../../index';

export interface LoopKind {
  handshake: HandshakeConfig;
  pluginName: string;
}

function kind(magicCookieKey: string, magicCookieValue: string, pluginName: string): LoopKind {
  return Object.freeze({ handshake: Object.freeze({ protocolVersion: 0, magicCookieKey, magicCookieValue }), pluginName });
}

export const LOOP_KINDS = Object.freeze({
  relayer: kind('CL_PLUGIN_RELAYER_MAGIC_COOKIE', 'dae753d4542311b33cf041b930db0150647e806175c2818a0c88a9ab745e45aa', 'relayer'),
  median: kind('CL_PLUGIN_MEDIAN_MAGIC_COOKIE', 'b12a697e19748cd695dd1690c09745ee7cc03717179958e8eadd5a7ca4646728', 'median'),
  mercury: kind('CL_PLUGIN_MERCURY_MAGIC_COOKIE', 'c3478720-a7a6-4d39-b506-0dd432c9be9a', 'mercury'),
  /** OCR2 generic reporting plugin service. */
  generic: kind('CL_PLUGIN_GENERIC_MAGIC_COOKIE', '2ad981747cd86c4ab3e23170970020fd', 'plugin-service'),
  /** OCR3 generic reporting plugin service (same cookie as the OCR2 one). */
  genericOcr3: kind('CL_PLUGIN_GENERIC_MAGIC_COOKIE', '2ad981747cd86c4ab3e23170970020fd', 'ocr3-plugin-service'),
  standardCapabilities: kind('CL_PLUGIN_STANDARD_CAPABILITIES_MAGIC_COOKIE', 'f4df86d3-3552-4231-8206-be0d245b6c67', 'standardcapabilities'),
  keystore: kind('CL_PLUGIN_KEYSTORE_MAGIC_COOKIE', 'fe81b132-0d3d-4c16-9f13-c2f7bfd3c361', 'keystore'),
  ccipCommit: kind('CL_PLUGIN_CCIP_COMMIT_MAGIC_COOKIE', '5a2d1527-6c0f-4c7e-8c96-00aa4bececd2', 'ccip_commit'),
  ccipExecution: kind('CL_PLUGIN_CCIP_EXEC_MAGIC_COOKIE', '5a2d1527-6c0f-4c7e-8c96-00aa4bececd2', 'ccip_execution'),
  /** chainlink-common's test driver only (`-cmd=logger-test`). */
  loggerTest: kind('CL_PLUGIN_LOGGER_TEST_MAGIC_COOKIE', '272d1867cdc8042f9405d7c1da3762ec', 'logger-test'),
});

export type LoopKindName = keyof typeof LOOP_KINDS;
