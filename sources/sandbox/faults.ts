/**
 * Fault knobs: how a sandbox system misbehaves on purpose, changed at run time by tests and
 * benchmarks (through the handle or `POST /_sandbox/knobs`).
 *
 * Every fault that strikes some requests and not others takes a `Rate`: a share of requests drawn
 * from a seeded stream (the same seed and the same order of requests give the same strikes), or
 * `{ "every": n }` for exactly the n-th, 2n-th, ... request. Setting any knob restarts the streams
 * and the counts from the seed.
 */
import { z } from 'zod';
import { createRandom, streamSeed, type Random } from './random';

const rate = z.union([z.number().min(0).max(1), z.strictObject({ every: z.number().int().min(1) })]);
/** A share of requests from 0 to 1 (seeded), or exactly every n-th one. */
export type Rate = z.infer<typeof rate>;

const knobsSchema = z.strictObject({
  /** Delay added to every request, in milliseconds. */
  latencyMs: z.number().min(0).max(600_000),
  /** Seed of the random draws of every `Rate`. */
  seed: z.number().int().min(0).max(0xffffffff),
  /** Requests answered with `errorStatus` instead of their answer. */
  errorRate: rate,
  /** The status of those failures: 500, 502, 503 or 504. */
  errorStatus: z.union([z.literal(500), z.literal(502), z.literal(503), z.literal(504)]),
  /** Requests answered 429 with `Retry-After: retryAfterSeconds`. */
  rateLimitRate: rate,
  retryAfterSeconds: z.number().int().min(0).max(86_400),
  /** Requests delayed by a further `spikeMs` (a latency spike). */
  spikeRate: rate,
  spikeMs: z.number().min(0).max(600_000),
  /** Every answer sends its body in pieces spread over this long, in milliseconds; 0 sends it at once. */
  slowBodyMs: z.number().min(0).max(600_000),
  /** Answers (2xx) whose body is cut off halfway: not JSON. */
  malformedRate: rate,
  /** Records (counted one by one across answers) that break the contract: no key, a bad date or an unknown enum value, in turn. */
  badRecordRate: rate,
  /**
   * Refuses connections for this long from when it is set, in milliseconds: the system stops
   * listening and listens again on the same port afterwards; 0 ends an outage. Over HTTP the
   * control endpoint goes down with the system, so an outage set there ends only by its time.
   */
  outageMs: z.number().min(0).max(3_600_000),
});

export type Knobs = z.infer<typeof knobsSchema>;
export type KnobChange = Partial<Knobs>;

export const DEFAULT_KNOBS: Knobs = {
  latencyMs: 0,
  seed: 42,
  errorRate: 0,
  errorStatus: 503,
  rateLimitRate: 0,
  retryAfterSeconds: 1,
  spikeRate: 0,
  spikeMs: 0,
  slowBodyMs: 0,
  malformedRate: 0,
  badRecordRate: 0,
  outageMs: 0,
};

export const KNOB_NAMES = Object.keys(DEFAULT_KNOBS) as Array<keyof Knobs>;

/** Checks a whole change; a problem anywhere means nothing of it may be applied. */
export function parseKnobChange(input: unknown): { ok: true; change: KnobChange } | { ok: false; message: string } {
  const parsed = knobsSchema.partial().safeParse(input);
  if (parsed.success) return { ok: true, change: parsed.data };
  const problems = parsed.error.issues.map((issue) => {
    if (issue.code === 'unrecognized_keys') return `unknown knob(s) ${issue.keys.join(', ')}; known: ${KNOB_NAMES.join(', ')}`;
    return `${issue.path.join('.') || 'knobs'}: ${issue.message}`;
  });
  return { ok: false, message: problems.join('; ') };
}

type Stream = 'error' | 'rateLimit' | 'spike' | 'malformed' | 'badRecord';

/** Decides which requests and records a fault strikes, per the knobs. */
export class FaultSchedule {
  private streams = new Map<Stream, { random: Random; count: number }>();
  private recordsBroken = 0;

  constructor(private knobs: Knobs) {
    this.restart();
  }

  /** Takes new knobs and starts every stream and count afresh from the seed. */
  reset(knobs: Knobs): void {
    this.knobs = knobs;
    this.restart();
  }

  private restart(): void {
    const streams: Stream[] = ['error', 'rateLimit', 'spike', 'malformed', 'badRecord'];
    this.streams = new Map(streams.map((name) => [name, { random: createRandom(streamSeed(this.knobs.seed, name)), count: 0 }]));
    this.recordsBroken = 0;
  }

  private strikes(stream: Stream, rate: Rate): boolean {
    const state = this.streams.get(stream)!;
    state.count += 1;
    if (typeof rate === 'number') return rate > 0 && state.random.next() < rate;
    return state.count % rate.every === 0;
  }

  error(): boolean {
    return this.strikes('error', this.knobs.errorRate);
  }

  rateLimited(): boolean {
    return this.strikes('rateLimit', this.knobs.rateLimitRate);
  }

  spike(): boolean {
    return this.strikes('spike', this.knobs.spikeRate);
  }

  malformed(): boolean {
    return this.strikes('malformed', this.knobs.malformedRate);
  }

  /** Whether the next record served breaks the contract, and if so how many have broken so far, this one included. */
  badRecord(): { broken: false } | { broken: true; nth: number } {
    if (!this.strikes('badRecord', this.knobs.badRecordRate)) return { broken: false };
    this.recordsBroken += 1;
    return { broken: true, nth: this.recordsBroken };
  }

  /** Whether any record may break at all, so that answers are only walked when needed. */
  breaksRecords(): boolean {
    const rate = this.knobs.badRecordRate;
    return typeof rate === 'number' ? rate > 0 : true;
  }
}

/** The fields of a system's records that its contract relies on, so that a record can be broken on purpose. */
export interface RecordContract {
  /** The record's id: a broken record lacks it. */
  key: string;
  /** A date field: a broken record carries a date nobody can read. */
  date: string;
  /** An enumerated field: a broken record carries a value outside the enumeration. */
  enum: string;
}

/** A copy of `record` that breaks the contract in the `nth` way (no key, bad date, unknown enum value, in turn). */
export function breakRecord(record: unknown, contract: RecordContract, nth: number): unknown {
  if (record === null || typeof record !== 'object') return record;
  const broken: Record<string, unknown> = { ...(record as Record<string, unknown>) };
  switch (nth % 3) {
    case 1:
      delete broken[contract.key];
      break;
    case 2:
      broken[contract.date] = 'not a date';
      break;
    default:
      broken[contract.enum] = 'NOT_IN_THE_CONTRACT';
  }
  return broken;
}
