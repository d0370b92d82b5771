/**
 * Every duration and size a source definition declares has an upper bound that validation checks,
 * so that a definition (a registered one above all) cannot make a call wait for days or an answer
 * fill the gateway's memory: `timeoutMs: 2147483647` is refused with the bound in the message.
 */
import { definitionJsonSchemaText } from '../../src/config/json-schema';
import { checkShape } from '../../src/config/validate';
import { sourceDefinition } from '../../src/config/definition';

type JsonSchema = { properties?: Record<string, JsonSchema>; anyOf?: JsonSchema[]; oneOf?: JsonSchema[]; items?: JsonSchema; additionalProperties?: JsonSchema | boolean; type?: string; maximum?: number; exclusiveMaximum?: number };

/** Every numeric property of the definition format, at its path, with its maximum. */
function numericProperties(schema: JsonSchema, path: string, found: Array<{ path: string; maximum: number | undefined }>): void {
  if (schema.type === 'integer' || schema.type === 'number') found.push({ path, maximum: schema.maximum ?? schema.exclusiveMaximum });
  for (const [name, property] of Object.entries(schema.properties ?? {})) numericProperties(property, `${path}.${name}`, found);
  for (const branch of [...(schema.anyOf ?? []), ...(schema.oneOf ?? [])]) numericProperties(branch, path, found);
  if (schema.items) numericProperties(schema.items, `${path}[]`, found);
  if (typeof schema.additionalProperties === 'object') numericProperties(schema.additionalProperties, `${path}.*`, found);
}

describe('bounds of durations and sizes', () => {
  const schema = JSON.parse(definitionJsonSchemaText()) as { $defs: Record<string, JsonSchema> };
  const found: Array<{ path: string; maximum: number | undefined }> = [];
  for (const [name, definition] of Object.entries(schema.$defs)) numericProperties(definition, name, found);

  it('every duration (…Ms), every size (…Bytes) and every number of a source\'s limits has a maximum', () => {
    const bounded = found.filter(({ path }) => /(Ms|Bytes)$/.test(path) || path.startsWith('Source.limits.'));
    expect(bounded.map(({ path }) => path)).toEqual(
      expect.arrayContaining([
        'Source.limits.timeoutMs',
        'Source.limits.connectTimeoutMs',
        'Source.limits.maxResponseBytes',
        'Source.limits.retry.baseDelayMs',
        'Source.limits.retry.maxDelayMs',
        'Source.limits.retry.maxRetryAfterMs',
        'Source.limits.retry.budget.windowMs',
        'Source.limits.breaker.windowMs',
        'Source.limits.breaker.openMs',
        'Source.limits.rateLimit.maxQueueWaitMs',
        'Source.cache.ttlMs',
        'Source.cache.staleWhileRevalidateMs',
        'Source.cache.staleIfErrorMs',
        'Auth.renewBeforeExpiryMs',
        'Entity.cache.ttlMs',
        'Mapping.via.cacheTtlMs',
      ]),
    );
    expect(bounded.filter(({ maximum }) => maximum === undefined).map(({ path }) => path)).toEqual([]);
  });

  it('refuses a timeout of 24 days, naming the bound; the default answer bound is 16 MiB', () => {
    const parsed = checkShape(sourceDefinition, { baseUrl: 'https://api.example.com', limits: { timeoutMs: 2_147_483_647, maxResponseBytes: 2 ** 31 }, entities: {} }, ['sources', 'ledger']);
    expect(parsed.ok).toBe(false);
    expect(parsed.ok ? [] : parsed.problems.map((p) => `${p.path}: ${p.message}`)).toEqual([
      'sources.ledger.limits.timeoutMs: expected a number at most 120000, found the number 2147483647',
      'sources.ledger.limits.maxResponseBytes: expected a number at most 268435456, found the number 2147483648',
    ]);
    expect(sourceDefinition.parse({ baseUrl: 'https://api.example.com', entities: {} }).limits).toMatchObject({ timeoutMs: 10_000, maxResponseBytes: 16 * 1024 * 1024 });
  });
});
