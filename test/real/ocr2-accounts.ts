/**
 * Account data of a Solana OCR2 feed as chainlink-solana (commit ee601d69, pkg/solana/types.go)
 * decodes it with gagliardetto/binary: fixed-size little-endian structs, no length prefixes. Only the
 * fields the median provider reads are set; the rest stay zero. Offsets are those of the Go structs.
 */

const STATE_LEN = 6920; // 8 discriminator + 40 header + 320 Config + 4112 OffchainConfig + 2440 Oracles
const CONFIG_AT = 48;
const OFFCHAIN_AT = 368;
const ORACLES_AT = 4480;
const ORACLE_LEN = 128; // transmitter 32, signer 20, payee 32, proposed payee 32, from round 4, payment 8
const MAX_ORACLES = 19;
const MAX_OFFCHAIN_CONFIG = 4096;

export interface Ocr2Oracle {
  /** 32-byte public key. */
  transmitter: Buffer;
  /** 20-byte on-chain signing key. */
  signer: Buffer;
}

export interface Ocr2State {
  transmissions: Buffer;
  minAnswer: bigint;
  maxAnswer: bigint;
  f: number;
  round: number;
  epoch: number;
  configCount: number;
  configDigest: Buffer;
  configBlock: bigint;
  offchainConfigVersion: bigint;
  offchainConfig: Buffer;
  oracles: Ocr2Oracle[];
}

function writeI128(b: Buffer, v: bigint, at: number): void {
  const u = BigInt.asUintN(128, v);
  b.writeBigUInt64LE(u & 0xffff_ffff_ffff_ffffn, at);
  b.writeBigUInt64LE(u >> 64n, at + 8);
}

function put(b: Buffer, bytes: Buffer, at: number, len: number): void {
  if (bytes.length !== len) throw new RangeError(`want ${len} bytes, got ${bytes.length}`);
  bytes.copy(b, at);
}

/** The OCR2 program's State account (`State` with version 1, the one this plugin accepts). */
export function ocr2StateAccount(s: Ocr2State): Buffer {
  if (s.oracles.length > MAX_ORACLES || s.offchainConfig.length > MAX_OFFCHAIN_CONFIG) throw new RangeError('too many oracles or too long an offchain config');
  const b = Buffer.alloc(STATE_LEN);
  b.writeUInt8(1, 8); // version
  put(b, s.transmissions, 16, 32);
  writeI128(b, s.minAnswer, CONFIG_AT + 192);
  writeI128(b, s.maxAnswer, CONFIG_AT + 208);
  b.writeUInt8(s.f, CONFIG_AT + 224);
  b.writeUInt8(s.round, CONFIG_AT + 225);
  b.writeUInt32LE(s.epoch, CONFIG_AT + 228);
  b.writeUInt32LE(s.configCount, CONFIG_AT + 268);
  put(b, s.configDigest, CONFIG_AT + 272, 32);
  b.writeBigUInt64LE(s.configBlock, CONFIG_AT + 304);
  b.writeBigUInt64LE(s.offchainConfigVersion, OFFCHAIN_AT);
  s.offchainConfig.copy(b, OFFCHAIN_AT + 8);
  b.writeBigUInt64LE(BigInt(s.offchainConfig.length), OFFCHAIN_AT + 8 + MAX_OFFCHAIN_CONFIG);
  s.oracles.forEach((o, i) => {
    put(b, o.transmitter, ORACLES_AT + i * ORACLE_LEN, 32);
    put(b, o.signer, ORACLES_AT + i * ORACLE_LEN + 32, 20);
  });
  b.writeBigUInt64LE(BigInt(s.oracles.length), ORACLES_AT + MAX_ORACLES * ORACLE_LEN);
  return b;
}

export interface Ocr2Transmission {
  slot: bigint;
  /** Unix seconds. */
  timestamp: number;
  answer: bigint;
}

/**
 * The store program's transmissions account (header version 2) holding one live transmission:
 * 8 discriminator, a 152-byte header in a 192-byte area, then 48-byte transmissions.
 */
export function transmissionsAccount(t: Ocr2Transmission): Buffer {
  const b = Buffer.alloc(8 + 192 + 48);
  b.writeUInt8(2, 8); // header version
  b.writeUInt32LE(1, 8 + 140); // live length
  b.writeUInt32LE(1, 8 + 144); // live cursor: the next slot, so the latest is index 0
  b.writeBigUInt64LE(t.slot, 200);
  b.writeUInt32LE(t.timestamp, 208);
  writeI128(b, t.answer, 216);
  return b;
}
