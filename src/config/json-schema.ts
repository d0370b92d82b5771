/**
 * The JSON Schema of a definition document, generated from the zod schemas of the format (the one
 * source of truth), so that editors complete and check definition files. It is committed as
 * `schema/virtualize-definition.schema.json`; a test keeps it current.
 */
import { z } from 'zod';
import {
  aggregateDefinition,
  authDefinition,
  cacheDefinition,
  configDefinition,
  definitionDocument,
  entityDefinition,
  envRef,
  fieldMapping,
  fieldMappingObject,
  listDefinition,
  lookupDefinition,
  mappingDefinition,
  sourceDefinition,
  transformDefinition,
} from './definition';

export const DEFINITION_SCHEMA_FILE = 'schema/virtualize-definition.schema.json';

type Documented = { id: string; description: string; properties?: Record<string, string> };

/** Names (shared definitions under `$defs`) and the words editors show on hover. */
const DOCS: ReadonlyArray<readonly [z.ZodType, Documented]> = [
  [envRef, { id: 'EnvRef', description: 'A value read from the gateway\'s environment when the source starts, never written in the definition: { "env": "BILLING_API_KEY" }.' }],
  [
    authDefinition,
    {
      id: 'Auth',
      description: 'How the gateway authenticates to the source: none, a bearer token, or a custom header. Secrets only by environment reference.',
    },
  ],
  [transformDefinition, { id: 'Transform', description: 'How a raw value becomes the canonical one: string, int, float, boolean, id, minorUnits, epochSeconds, epochMillis, dateTime, email, or { "enum": { raw: CANONICAL } }.' }],
  [fieldMapping, { id: 'FieldMapping', description: 'Where a canonical field comes from in the raw record: a dot path, or { "from", "transform", ... }.' }],
  [lookupDefinition.shape.body.unwrap(), { id: 'JsonTemplate', description: 'A JSON value sent as a request body; "{values}", "{value}" and "{properties}" standing alone are replaced by JSON values.' }],
  [
    fieldMappingObject,
    {
      id: 'FieldMappingObject',
      description: 'Where a canonical field comes from in the raw record, and how it is converted. A plain string is the same as { "from": string }.',
      properties: {
        from: 'Dot path into the raw record, e.g. properties.amount_due.',
        type: 'The GraphQL type of the field when neither the canonical schema nor the transform says it, e.g. [ID!].',
        items: 'For a list of nested objects (order lines): the mapping of each element.',
        required: 'A record missing this value is left out of answers rather than served with a null. Defaults to true for the key.',
      },
    },
  ],
  [
    lookupDefinition,
    {
      id: 'Lookup',
      description: 'An endpoint that fetches records by the values of one field. {value} stands for one value per call, {values} for a batch.',
      properties: {
        method: 'GET, or POST for reads that take their keys in a JSON body.',
        path: 'Relative to the source\'s baseUrl, starting with /; may hold {value}.',
        query: 'Query parameters; values may hold {value}, {values} (joined by batch.separator) and {properties}.',
        body: 'POST only: the JSON body. "{values}" alone becomes the array of keys (numbers when valueType is number), "{properties}" the property names.',
        resultPath: 'Dot path of the records in the answer (the envelope), e.g. results.',
        batch: 'Absent: one value per call. Present: up to maxSize values per call.',
        unique: 'True when a value finds at most one record (an id), false for a foreign key.',
        pattern: 'A regular expression every findable value matches; other values are never sent.',
        valueType: 'string (default) or number: how keys are written into a JSON body.',
        itemErrors: 'Per-value errors inside a successful answer (207 Multi-Status): each fails only the values it names; notFoundCodes mean "no record".',
      },
    },
  ],
  [
    listDefinition,
    {
      id: 'List',
      description: 'The endpoint that pages through all records: by cursor, page number, offset, Link header or next-page URL.',
      properties: {
        paging:
          'cursor (a cursor in the body, or the last record\'s id with has_more), page (page numbers), offset (offset and limit), link (RFC 8288 Link header, rel="next"), nextUrl (the next page\'s URL in the body).', filters: 'GraphQL argument -> query parameter and the field it filters.',
      },
    },
  ],
  [
    entityDefinition,
    {
      id: 'Entity',
      description: 'A type the source serves: its key, its fields, how to fetch records by field values, and optionally how to list them.',
      properties: {
        key: 'The canonical field that identifies a record within the source; lookups must include one for it.',
        fields: 'Canonical field name -> where it comes from in the raw record.',
        lookups: 'Canonical field name -> the endpoint that finds records by its values.',
        query: 'Root fields to publish (false to publish none): one, many (by ids), list.',
        properties: 'For APIs that return only the properties asked for by name: where they live ("under"), so that {properties} names them.',
      },
    },
  ],
  [
    sourceDefinition,
    {
      id: 'Source',
      description: 'A source system: where it is, how to authenticate, how hard it may be pressed, and the entities it serves.',
      properties: {
        baseUrl: 'The API\'s base URL, or an environment reference with a default.',
        forwardCaller: "Send the calling client's own bearer token to this source on every call (off by default: the source sees only its own credentials). Its cached answers are then kept per caller.",
        limits: 'Timeouts and the most calls in flight at once.',
        entities: 'PascalCase type name -> entity.',
      },
    },
  ],
  [
    cacheDefinition,
    {
      id: 'Cache',
      description: 'The cache tiers, all on by default. Turn one off with cache.upstream.enabled: false or cache.responses.enabled: false.',
      properties: {
        upstream: 'What sources answered, per record, across requests: enabled (default true), maxBytes (64 MiB), ttlMs (30 s), staleWhileRevalidateMs (30 s), staleIfErrorMs (5 min). Sources and entities override the TTLs (cache.ttlMs: 0 turns it off for them).',
        responses: 'Whole answers of operations asked often: enabled (default true), maxBytes (32 MiB), ttlMs (10 s), cached from the admitAfter-th time (2) within windowMs (60 s).',
        shared: 'The tier replicas share: memory (default, none) or redis.',
        webhooks: 'Change notifications from sources (POST /webhooks/<source>), signed with each source\'s secret.',
      },
    },
  ],
  [aggregateDefinition, { id: 'Aggregate', description: 'A summary over joined records: count, sum, min, max, or single (the value when all records agree).' }],
  [
    mappingDefinition,
    {
      id: 'Mapping',
      description: 'A join between two entities: from is the "one" side, to the "many" side.',
      properties: {
        via: 'How keys are translated: a crosswalk (pairs imported with `virtualize mappings import`), a shared normalized field (fieldKey), or a master-data service.',
        forward: 'The field the "from" entity gains (Customer.invoices), with arguments, order and summaries.',
        inverse: 'The field the "to" entity gains for the way back (Invoice.customer).',
      },
    },
  ],
];

/** The JSON Schema (draft 2020-12) of one zod schema of the format, with its input defaults. */
function generate(root: z.ZodType, head: { $id: string; title: string; description: string }): Record<string, unknown> {
  const metadata = z.registry<{ id: string; description: string }>();
  const properties = new Map<z.ZodType, Record<string, string>>();
  for (const [schema, docs] of DOCS) {
    metadata.add(schema, { id: docs.id, description: docs.description });
    if (docs.properties) properties.set(schema, docs.properties);
  }
  const generated = z.toJSONSchema(root, {
    io: 'input',
    metadata,
    unrepresentable: 'any',
    override: ({ zodSchema, jsonSchema }) => {
      // zod names its prefix checks a format; JSON Schema has no such format (the pattern says it).
      if (jsonSchema.format === 'starts_with') delete jsonSchema.format;
      const words = properties.get(zodSchema as unknown as z.ZodType);
      const props = jsonSchema.properties as Record<string, { description?: string }> | undefined;
      if (!words || !props) return;
      for (const [name, description] of Object.entries(words)) if (props[name]) props[name].description ??= description;
    },
  });
  return { $schema: generated.$schema, ...head, ...Object.fromEntries(Object.entries(generated).filter(([key]) => key !== '$schema')) };
}

/** The definition file's exact text. */
export function definitionJsonSchemaText(): string {
  const schema = generate(definitionDocument, {
    $id: 'https://virtualize.dev/schema/virtualize-definition.schema.json',
    title: 'virtualize definition',
    description: 'Sources and id mappings registered at run time (virtualize sources add <file>), in the format of virtualization.config.ts. Generated from src/config/definition.ts.',
  });
  return `${JSON.stringify(schema, null, 2)}\n`;
}

export const CONFIG_SCHEMA_FILE = 'schema/virtualize-config.schema.json';

/** The whole configuration file's exact text: every key `--config` reads. */
export function configJsonSchemaText(): string {
  const schema = generate(configDefinition, {
    $id: 'https://virtualize.dev/schema/virtualize-config.schema.json',
    title: 'virtualize configuration',
    description: 'The configuration file virtualize --config reads (virtualization.config.ts, or the same as JSON). Generated from src/config/definition/config.ts.',
  });
  return `${JSON.stringify(schema, null, 2)}\n`;
}
