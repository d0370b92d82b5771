/** Keeps the last `capacity` items pushed, oldest first on read; memory stays bounded however long a server runs. */
export class RingBuffer<T> {
  readonly #items: T[] = [];
  #next = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError(`capacity must be a positive integer, got ${String(capacity)}`);
    }
  }

  push(item: T): void {
    if (this.#items.length < this.capacity) this.#items.push(item);
    else this.#items[this.#next] = item;
    this.#next = (this.#next + 1) % this.capacity;
  }

  /** A copy, oldest first. */
  toArray(): T[] {
    if (this.#items.length < this.capacity) return [...this.#items];
    return [...this.#items.slice(this.#next), ...this.#items.slice(0, this.#next)];
  }

  clear(): void {
    this.#items.length = 0;
    this.#next = 0;
  }
}
