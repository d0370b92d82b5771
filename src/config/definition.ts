/**
 * The declarative format of virtualize: sources, the entities they serve, and the id mappings that
 * join entities across sources. Everything here is plain data (no functions), so that the same
 * definition can live in `virtualization.config.ts`, in a JSON file, or arrive through an admin API,
 * and be checked by one validator.
 *
 * The zod schemas are the single source of truth: the TypeScript types are inferred from them, and
 * a JSON Schema can be generated from them with `z.toJSONSchema`. Each part of the format lives in
 * its own module under `definition/`; this module is the one entry the rest of the program imports.
 */
export { envRef, type EnvRef } from './definition/env-ref';
export { authDefinition, type AuthDefinition } from './definition/auth';
export { transformDefinition, fieldMappingObject, fieldMapping, type TransformDefinition, type FieldMapping } from './definition/fields';
export {
  lookupDefinition,
  cursorPaging,
  pageNumberPaging,
  offsetPaging,
  linkHeaderPaging,
  nextUrlPaging,
  listPaging,
  listDefinition,
  isRepeatedTemplate,
  type LookupDefinition,
  type PageNumberPaging,
  type CursorPaging,
  type OffsetPaging,
  type LinkHeaderPaging,
  type NextUrlPaging,
  type ListPaging,
  type ListDefinition,
} from './definition/endpoints';
export { cachePolicyDefinition, cacheDefinition, type CachePolicy, type CacheDefinition } from './definition/cache';
export { entityDefinition, type EntityDefinition } from './definition/entity';
export { accessDefinition, maskDefinition, maskRule, type AccessDefinition, type MaskDefinition, type MaskRule } from './definition/access';
export {
  retryPolicyDefinition,
  breakerPolicyDefinition,
  rateLimitPolicyDefinition,
  remainingHeaderDefinition,
  limitsDefinition,
  type RetryPolicy,
  type BreakerPolicy,
  type RateLimitPolicy,
  type RemainingHeader,
  type Limits,
  type LimitsInput,
} from './definition/limits';
export { sourceDefinition, forwardCallerDefinition, type SourceDefinition, type SourceDefinitionInput, type ForwardCallerDefinition } from './definition/source';
export {
  aggregateDefinition,
  summaryDefinition,
  mappingDefinition,
  type AggregateDefinition,
  type SummaryDefinition,
  type MappingDefinition,
  type MappingDefinitionInput,
} from './definition/mappings';
export { serverDefinition, type ServerDefinition } from './definition/server';
export { adminScope, registryDefinition, type AdminScope, type RegistryDefinition } from './definition/registry';
export { definitionDocument, type DefinitionDocument, type DefinitionDocumentInput } from './definition/document';
export {
  shapeLimitsDefinition,
  budgetStoreDefinition,
  guardDefinition,
  type ShapeLimits,
  type GuardDefinition,
} from './definition/guard';
export {
  scopeName,
  jwtAlgorithm,
  jwtIssuerDefinition,
  clientAuthDefinition,
  type JwtIssuerDefinition,
  type ClientAuthDefinition,
  type PolicyCaller,
  type PolicyDecider,
} from './definition/client-auth';
export { configDefinition, type VirtualizationConfig, type VirtualizationConfigInput } from './definition/config';
