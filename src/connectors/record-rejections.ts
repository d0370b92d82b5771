/**
 * Records a mapping left out of an answer, as the answer reports them (`extensions.rejected`):
 * counted per source, entity and reason, the reason being the field, its rule and the kind of value
 * found (`segment: expected one of ENT, MM, SMB, found a string`), never a value of the record.
 */

/** The extension of an answer that some records were left out of: `RejectedRecords[]`, absent when none was. */
export const REJECTED_EXTENSION = 'rejected';

/** What one rejected record is counted under. */
export interface RecordRejection {
  source: string;
  entity: string;
  /** The rejection's `summary`: field, rule and kind of value. */
  reason: string;
}

/** One line of `extensions.rejected`. */
export interface RejectedRecords extends RecordRejection {
  count: number;
}

/**
 * Told, while one request is answered, of `count` records a mapping left out; `value` is the asked
 * lookup value they answered, when it can be told (what the upstream-call cache keeps them under).
 */
export type RejectionSink = (rejection: RecordRejection, count: number, value?: string) => void;

/** Distinct lines one answer lists; beyond them, counts go to one line per source and entity. */
const MAX_LINES = 32;
const FURTHER = 'further reasons not listed';

/** The rejections of one request, counted as `extensions.rejected` lists them (in the order first met), bounded in lines. */
export class RejectionTally {
  private readonly lines = new Map<string, RejectedRecords>();

  readonly add: RejectionSink = (rejection, count) => {
    if (count <= 0) return;
    let id = `${rejection.source}\u0000${rejection.entity}\u0000${rejection.reason}`;
    let line = this.lines.get(id);
    if (!line && this.lines.size >= MAX_LINES) {
      id = `${rejection.source}\u0000${rejection.entity}\u0000${FURTHER}`;
      line = this.lines.get(id);
      if (!line) this.lines.set(id, (line = { source: rejection.source, entity: rejection.entity, count: 0, reason: FURTHER }));
    }
    if (!line) this.lines.set(id, (line = { source: rejection.source, entity: rejection.entity, count: 0, reason: rejection.reason }));
    line.count += count;
  };

  get size(): number {
    return this.lines.size;
  }

  /** `extensions.rejected`, a copy. */
  entries(): RejectedRecords[] {
    return [...this.lines.values()].map((line) => ({ ...line }));
  }
}
