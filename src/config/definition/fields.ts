/** Canonical fields: where each comes from in a raw record, and how its value is converted. */
import { z } from 'zod';
import { accessDefinition, maskDefinition, type AccessDefinition, type MaskDefinition } from './access';
import { fieldName, typeName } from './names';

/**
 * Value transforms from a raw payload value to the canonical value. Each is pure; a value that does
 * not fit its transform rejects that record alone (see connectors/record-mapper).
 */
export const transformDefinition = z.union([
  z.enum([
    'string',
    'int',
    'float',
    'boolean',
    'id',
    'minorUnits', // integer minor units (cents) -> decimal number
    'epochSeconds', // seconds since 1970 -> ISO-8601 DateTime
    'epochMillis',
    'dateTime', // ISO-8601 and close relatives (`+0000` offsets, `YYYY-MM-DD HH:mm:ss` as UTC) -> ISO-8601 DateTime
    'email', // trimmed and lower-cased
  ]),
  z.strictObject({
    enum: z.record(z.string(), z.string()).describe('raw value -> canonical enum value'),
    caseInsensitive: z.boolean().optional(),
  }),
]);
export type TransformDefinition = z.infer<typeof transformDefinition>;

const graphqlTypeRef = z
  .string()
  .regex(/^\[?[A-Za-z][A-Za-z0-9]*!?\]?!?$/, 'a GraphQL type reference such as String, Int!, [String!]');

export const fieldMappingObject = z.strictObject({
  /** Dot path into the raw record, e.g. `Owner.Name`; `[]` maps each element of an array (`lines[].sku` is not supported: use `items`). */
  from: z.string().min(1),
  transform: transformDefinition.optional(),
  /** GraphQL type of the canonical field when the canonical schema does not already define it. */
  type: graphqlTypeRef.optional(),
  description: z.string().optional(),
  /** For a list of nested objects: the mapping of each element (for example order lines). */
  items: z
    .strictObject({
      type: typeName,
      description: z.string().optional(),
      get fields() {
        return z.record(fieldName, fieldMapping);
      },
    })
    .optional(),
  /**
   * For a list (an array of values or of `items`): the items the guard assumes it holds. Absent:
   * `guard.listSizes.list`. It arrives in the parent record's payload, so its items weigh 0 points.
   * On a list-valued key field (`type: '[ID!]'`), the values a join asks for per record: the
   * guard predicts the calls of each, and sizes an inverse from it to as many records.
   */
  assumedSize: z.number().int().min(0).max(100_000).optional(),
  /** A record missing this value is rejected rather than served with a null. Defaults to true for the entity key. */
  required: z.boolean().optional(),
  /** What a caller needs to select this field. */
  access: accessDefinition.optional(),
  /** A sensitive field: masked for a caller without the unmasking scope. */
  mask: maskDefinition.optional(),
});
export const fieldMapping: z.ZodType<FieldMapping> = z.union([z.string().min(1), fieldMappingObject]);
export type FieldMapping =
  | string
  | {
      from: string;
      transform?: TransformDefinition;
      type?: string;
      description?: string;
      items?: { type: string; description?: string; fields: Record<string, FieldMapping> };
      assumedSize?: number;
      required?: boolean;
      access?: AccessDefinition;
      mask?: MaskDefinition;
    };
