import { z } from 'zod';
import { accessDefinition } from './access';
import { cachePolicyDefinition } from './cache';
import { listDefinition, lookupDefinition } from './endpoints';
import { fieldMapping } from './fields';
import { fieldName } from './names';

/** An entity a source serves: its key, its fields, its endpoints and the root fields it publishes. */
export const entityDefinition = z.strictObject({
  description: z.string().optional(),
  /** Overrides the source's (and the config's) cache policy for this entity. */
  cache: cachePolicyDefinition.optional(),
  /** What a caller needs to see this entity (its type, its root fields, the joins that return it). */
  access: accessDefinition.optional(),
  /** The canonical field that identifies a record within the source. */
  key: fieldName,
  fields: z.record(fieldName, fieldMapping),
  /** Endpoints that fetch records by the values of one canonical field; `key` must have one. */
  lookups: z.record(fieldName, lookupDefinition),
  list: listDefinition.optional(),
  /** Root fields to expose. Defaults: one = camelCase(Entity), many = plural+`ByIds`, list = plural. */
  query: z
    .strictObject({
      one: fieldName.or(z.literal(false)).optional(),
      many: fieldName.or(z.literal(false)).optional(),
      list: fieldName.or(z.literal(false)).optional(),
    })
    .optional(),
  plural: fieldName.optional(),
  /**
   * For APIs that return only the properties asked for by name: `{properties}` in a query or body
   * template becomes the names the field mapping reads (under `under`, e.g. `properties` when
   * records look like `{ id, properties: { email } }`).
   */
  properties: z.strictObject({ under: z.string().min(1).optional() }).optional(),
});
export type EntityDefinition = z.infer<typeof entityDefinition>;
