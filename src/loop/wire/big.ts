/** big.Int <-> loop.BigInt (sign plus big-endian magnitude, as Go's big.Int.Bytes()). */
import type { BigInt as PbBigInt } from '../../gen';

export function bigToPb(v: bigint): PbBigInt {
  const negative = v < 0n;
  let m = negative ? -v : v;
  const bytes: number[] = [];
  while (m > 0n) {
    bytes.unshift(Number(m & 0xffn));
    m >>= 8n;
  }
  return { negative, value: Buffer.from(bytes) };
}

export function bigFromPb(b: PbBigInt | undefined): bigint {
  if (b === undefined) return 0n;
  const m = b.value.length === 0 ? 0n : BigInt(`0x${Buffer.from(b.value).toString('hex')}`);
  return b.negative ? -m : m;
}
