/**
 * A progress bar on a terminal (redrawn in place, at most ten times a second), or on a pipe a line
 * at each quarter, so that logs show progress without a screenful of carriage returns.
 */
export class ProgressBar {
  private lastDraw = 0;
  private lastQuarter = -1;
  private drawn = false;

  constructor(
    private readonly out: NodeJS.WriteStream = process.stderr,
    private readonly width = 30,
  ) {}

  /** `fraction` in [0, 1]; `label` follows the bar (rows, bytes, rate). */
  update(fraction: number, label: string, force = false): void {
    const done = Math.max(0, Math.min(1, fraction));
    const percent = `${Math.floor(done * 100)}%`.padStart(4);
    if (this.out.isTTY) {
      const now = performance.now();
      if (!force && now - this.lastDraw < 100) return;
      this.lastDraw = now;
      const filled = Math.round(done * this.width);
      this.out.write(`\r[${'#'.repeat(filled)}${'.'.repeat(this.width - filled)}] ${percent} ${label}\u001b[K`);
      this.drawn = true;
      return;
    }
    const quarter = Math.floor(done * 4);
    if (quarter > this.lastQuarter || force) {
      this.lastQuarter = quarter;
      this.out.write(`${percent} ${label}\n`);
    }
  }

  /** Leaves the bar's last state on screen and moves to a fresh line. */
  finish(): void {
    if (this.drawn) this.out.write('\n');
    this.drawn = false;
  }
}

/** 1234567 -> `1,234,567`. */
export function count(n: number): string {
  return n.toLocaleString('en-US');
}

/** Bytes as `12.3 MB`. */
export function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} kB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}
