/**
 * The files reflection can answer with, looked up the ways the reflection API asks: by file name, by
 * a symbol the file declares, by an extension it declares. The first file of a name wins, and so does
 * the first declaration of a symbol: sources are added in priority order.
 */
import type { DescribedFile } from './descriptors';

export class FileIndex {
  readonly #files = new Map<string, DescribedFile>();
  readonly #symbols = new Map<string, DescribedFile>();
  /** Extended message → field number → the file declaring the extension. */
  readonly #extensions = new Map<string, Map<number, DescribedFile>>();

  /** Adds `file` unless a file of its name is already there; returns whether it was added. */
  add(file: DescribedFile): boolean {
    if (this.#files.has(file.name)) return false;
    this.#files.set(file.name, file);
    for (const s of file.symbols) if (!this.#symbols.has(s)) this.#symbols.set(s, file);
    for (const x of file.extensions) {
      let byNumber = this.#extensions.get(x.extendee);
      if (byNumber === undefined) this.#extensions.set(x.extendee, (byNumber = new Map()));
      if (!byNumber.has(x.number)) byNumber.set(x.number, file);
    }
    return true;
  }

  byName(name: string): DescribedFile | undefined {
    return this.#files.get(name);
  }

  declaring(symbol: string): DescribedFile | undefined {
    return this.#symbols.get(symbol);
  }

  extending(extendee: string, number: number): DescribedFile | undefined {
    return this.#extensions.get(extendee)?.get(number);
  }

  /** The extension numbers of a message, ascending; undefined when the message is unknown (and extended nowhere). */
  extensionNumbers(message: string): number[] | undefined {
    const byNumber = this.#extensions.get(message);
    if (byNumber !== undefined) return [...byNumber.keys()].sort((a, b) => a - b);
    return this.#symbols.has(message) ? [] : undefined;
  }

  /**
   * `file`, then its imports, breadth first and transitively, leaving out the imports a stream has
   * already received (`sent`, updated here): the asked-for file itself is always sent, as Go's server
   * does. Imports no source describes are skipped; the client learns of them from the import list.
   */
  withImports(file: DescribedFile, sent: Set<string>): Uint8Array[] {
    const out: Uint8Array[] = [file.bytes];
    sent.add(file.name);
    const queue = [...file.dependencies];
    for (let name = queue.shift(); name !== undefined; name = queue.shift()) {
      const dep = this.#files.get(name);
      if (dep === undefined || sent.has(name)) continue;
      sent.add(name);
      out.push(dep.bytes);
      queue.push(...dep.dependencies);
    }
    return out;
  }

  /** Imports that no added file provides, as `importer → missing` pairs. */
  missingImports(): { file: string; missing: string }[] {
    const out: { file: string; missing: string }[] = [];
    for (const f of this.#files.values()) for (const d of f.dependencies) if (!this.#files.has(d)) out.push({ file: f.name, missing: d });
    return out;
  }
}
