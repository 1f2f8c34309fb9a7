/**
 * chainlink-common's Keystore as both sides of a relayer LOOP see it: the host serves one (and a CSA
 * one) on broker ids, the plugin dials them.
 */

/** A host keystore: accounts plus signing (nil data = existence check) and decryption. */
export interface Keystore {
  accounts(): Promise<string[]> | string[];
  sign(account: string, data: Buffer): Promise<Buffer> | Buffer;
  decrypt?(account: string, data: Buffer): Promise<Buffer> | Buffer;
}
