/**
 * An explicit teardown scope: the one place a multi-step set-up records how to undo each step, so a
 * failure at any step undoes exactly what was done, in reverse order, once. (Node 20 has no
 * AsyncDisposableStack, and TypeScript's ESNext.Disposable lib would type-check a use of it that
 * then fails at run time.)
 */
export class TeardownScope {
  #steps: (() => unknown)[] = [];
  #done = false;

  /** Records `undo` to run (after every step recorded later) when the scope is torn down. */
  defer(undo: () => unknown): void {
    if (this.#done) throw new Error('TeardownScope: defer() after teardown() or dismiss()');
    this.#steps.push(undo);
  }

  /** The set-up succeeded: ownership of what was recorded passes to the caller; nothing is undone. */
  dismiss(): void {
    this.#done = true;
    this.#steps = [];
  }

  /**
   * Undoes every recorded step, last first, each awaited; a step that throws does not stop the
   * others (its error is passed to `onError`). Idempotent.
   */
  async teardown(onError: (err: unknown) => void = () => {}): Promise<void> {
    if (this.#done) return;
    this.#done = true;
    const steps = this.#steps.reverse();
    this.#steps = [];
    for (const undo of steps) {
      try {
        await undo();
      } catch (err) {
        onError(err);
      }
    }
  }
}
