/** The query guard's section: limits on a document's shape, the cost limit and the per-client budgets. */
import { z } from 'zod';
import { stringOrEnv } from './env-ref';

/** Limits on the shape of a document, checked before it is validated against the schema. */
export const shapeLimitsDefinition = z.strictObject({
  /** Nesting of fields (fragments do not add a level). */
  depth: z.number().int().min(1).default(10),
  /** Aliased fields in one operation (`__typename` aliases are free). */
  aliases: z.number().int().min(0).default(100),
  /** Directives used in one operation, counting those inside fragments. */
  directives: z.number().int().min(0).default(30),
  /** Lexical tokens in one document. */
  tokens: z.number().int().min(1).default(2_000),
  /** Fragment definitions in one document. */
  fragments: z.number().int().min(0).default(20),
  /**
   * Selections of one operation once every fragment spread is replaced by its fragment, counted
   * without expanding it (every field, inline fragment and spread counts): what a walk of the
   * expanded document visits, which a few hundred bytes of nested spreads multiply exponentially.
   */
  expandedSelections: z.number().int().min(1).default(5_000),
  /** Nesting of arrays and objects in a request's JSON (variables, extensions), checked before anything walks it. */
  jsonDepth: z.number().int().min(1).max(1_000).default(32),
  /** Characters of one string (or object key) in a request's variables and extensions; the document itself is bounded by `tokens` and `requestBytes`. */
  jsonStringLength: z.number().int().min(1).default(100_000),
  /** Operations in one batched HTTP request (a JSON array of operations). */
  batchedOperations: z.number().int().min(1).default(5),
  /** Bytes of one request body; a POST must say its length (`Content-Length`), and a longer one is refused unread. */
  requestBytes: z.number().int().min(1).default(1_000_000),
});
export type ShapeLimits = z.infer<typeof shapeLimitsDefinition>;

/** Where per-client budgets live: in this process, or in Redis shared by every replica. */
export const budgetStoreDefinition = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('memory'),
    /** Clients remembered at once; the least recently seen is forgotten first (its bucket is then full). */
    maxClients: z.number().int().min(1).default(10_000),
  }),
  z.strictObject({
    kind: z.literal('redis'),
    url: stringOrEnv,
    keyPrefix: z.string().default('virtualize:budget:'),
    /** A budget check that takes longer lets the request through uncharged rather than stall it. */
    timeoutMs: z.number().int().min(1).default(250),
  }),
]);

/**
 * Query cost limits (see `src/guard/`). Points follow the IBM GraphQL Cost Directive
 * specification: `@cost` and `@listSize` in `schema/`, objects 1, scalars and enums 0.
 */
export const guardDefinition = z
  .strictObject({
    /** The most points one operation may be estimated at before it runs. */
    maxCost: z.number().min(1).default(10_000),
    limits: shapeLimitsDefinition.prefault({}),
    /**
     * Assumed sizes of list fields that neither `schema/` nor the definition's `assumedSize` sizes
     * (types generated from a source declaration). A field-key join to a unique lookup is sized 1.
     */
    listSizes: z
      .strictObject({
        /** A forward join (`Customer.invoices`) without a slicing argument. */
        join: z.number().int().min(0).default(20),
        /** Any other list field (nested items such as invoice lines). */
        list: z.number().int().min(0).default(10),
      })
      .prefault({}),
    /**
     * A leaky bucket of points per authenticated client (its API key's id, its token's issuer and
     * subject; anonymous callers one per address): each operation takes its estimated cost up
     * front and gets back what it did not use.
     */
    budget: z
      .strictObject({
        capacity: z.number().min(1).default(20_000),
        /** Points per second that flow back into every bucket. */
        restoreRate: z.number().min(0.001).default(2_000),
        store: budgetStoreDefinition.prefault({ kind: 'memory' }),
      })
      .prefault({}),
  })
  .refine((guard) => guard.maxCost <= guard.budget.capacity, {
    message: 'maxCost must not exceed budget.capacity: a query at the limit could never run',
    path: ['maxCost'],
  });
export type GuardDefinition = z.infer<typeof guardDefinition>;
