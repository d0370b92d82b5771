/**
 * What a runtime opened, closed in the reverse order: the last part opened (the HTTP server) is
 * the first closed, so nothing is closed while something opened after it still uses it. A runtime
 * that fails to start runs the same teardown over what it had opened so far.
 */
export class Teardown {
  private readonly steps: Array<() => Promise<void> | void> = [];

  /** Registers how to close a part just opened. */
  add(close: () => Promise<void> | void): void {
    this.steps.push(close);
  }

  /** Closes every part, last opened first; a part that fails to close does not keep the others open. */
  async run(): Promise<void> {
    const failures: unknown[] = [];
    for (const close of this.steps.splice(0).reverse()) {
      try {
        await close();
      } catch (error) {
        failures.push(error);
      }
    }
    if (failures.length === 1) throw failures[0];
    if (failures.length > 1) throw new AggregateError(failures, `${failures.length} parts of the gateway failed to close`);
  }
}
