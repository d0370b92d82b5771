/** Mappings: the joins between entities, how their keys are translated, and the summaries over joined records. */
import { z } from 'zod';
import { fieldName, typeName } from './names';

const entityField = z.strictObject({ entity: typeName, field: fieldName });

const sliceArg = z.strictObject({ type: z.literal('Int'), slice: z.literal(true) });
const filterArg = z.strictObject({ filter: fieldName });

export const aggregateDefinition = z.strictObject({
  op: z.enum(['count', 'sum', 'min', 'max', 'single']),
  /** The field aggregated (not for count); `single` gives the value when all records agree, else null. */
  field: fieldName.optional(),
  /** Only records whose field takes one of these canonical values count. */
  where: z.record(fieldName, z.array(z.string())).optional(),
  /**
   * With sum, min or max: a field that every aggregated record must share (a currency: amounts in
   * different currencies do not add up). When the records disagree the summary is null, never a
   * number that means nothing.
   */
  requireSame: fieldName.optional(),
  description: z.string().optional(),
});
export type AggregateDefinition = z.infer<typeof aggregateDefinition>;

export const summaryDefinition = z.union([
  aggregateDefinition,
  z.strictObject({ type: typeName, description: z.string().optional(), fields: z.record(fieldName, aggregateDefinition) }),
]);
export type SummaryDefinition = z.infer<typeof summaryDefinition>;

/**
 * A join between two entities of (usually) different sources. `from` is the "one" side, `to` the
 * "many" side: `Customer.orders` (forward) and `Order.customer` (inverse).
 */
export const mappingDefinition = z.strictObject({
  description: z.string().optional(),
  from: entityField,
  to: entityField,
  via: z.discriminatedUnion('kind', [
    z.strictObject({
      kind: z.literal('crosswalk'),
      /**
       * A table of (from value, to value) pairs, CSV with a header row, of which the two named
       * columns are used. Without a file the pairs live in the mapping store, imported through the
       * admin API (`virtualize mappings import`).
       */
      file: z.string().min(1).optional(),
      columns: z.tuple([z.string().min(1), z.string().min(1)]).optional(),
    }).refine((via) => via.file === undefined || via.columns !== undefined, {
      message: 'a crosswalk file needs its two columns, e.g. ["crm_customer_id", "order_customer_ref"]',
      path: ['columns'],
    }),
    z.strictObject({
      kind: z.literal('service'),
      /**
       * A crosswalk served by a master-data service: an entity of some source whose lookup by
       * `from` answers, for each from-side value, its partners in `to` (one value or a list).
       * Asked in batches like any lookup, and counted, predicted and logged like one: the
       * crosswalks over one entity share its calls (one per batch of keys per request).
       */
      entity: typeName,
      from: fieldName,
      to: fieldName,
      /**
       * How long an answer is reused, in milliseconds; 0 reuses it within one request only (by every
       * crosswalk of the request). Above 0 the upstream-call cache keeps it that long, in place of the
       * entity's `cache.ttlMs` and with no stale-while-revalidate; crosswalks over one entity share
       * the shortest.
       */
      cacheTtlMs: z.number().int().min(0).max(86_400_000).default(60_000),
    }),
    z.strictObject({
      kind: z.literal('fieldKey'),
      /** How both sides are normalized before they are compared. */
      normalize: z.enum(['none', 'email', 'trim', 'lowercase']).default('none'),
    }),
  ]),
  forward: z.strictObject({
    field: fieldName,
    description: z.string().optional(),
    args: z.record(fieldName, z.union([sliceArg, filterArg])).optional(),
    orderBy: z.strictObject({ field: fieldName, direction: z.enum(['asc', 'desc']) }).optional(),
    summaries: z.record(fieldName, summaryDefinition).optional(),
    /**
     * Records the guard assumes per parent when the query passes no slicing argument. Absent: 1
     * for a field-key join to a unique lookup (one partner at most), else `guard.listSizes.join`.
     */
    assumedSize: z.number().int().min(0).max(100_000).optional(),
  }),
  inverse: z.strictObject({ field: fieldName, description: z.string().optional() }).optional(),
});
export type MappingDefinition = z.infer<typeof mappingDefinition>;
export type MappingDefinitionInput = z.input<typeof mappingDefinition>;
