/**
 * virtualize for programs that embed it: declare a configuration, validate it, start a gateway
 * through the same composition root as `virtualize start`.
 *
 *   import { createRuntime, loadConfigFile } from 'virtualize';
 *   const runtime = await createRuntime(await loadConfigFile('virtualization.config.ts'), { baseDir: process.cwd(), env: process.env });
 *
 * Tracing, when wanted, starts before this module loads (see src/telemetry/register.ts).
 */
export { defineConfig, env } from './config/define-config';
export { loadConfigFile } from './config/load';
export { InvalidDefinitionError, validateConfig } from './config/validate';
export type {
  DefinitionDocumentInput,
  MappingDefinitionInput,
  SourceDefinitionInput,
  VirtualizationConfig,
  VirtualizationConfigInput,
} from './config/definition';
// The error model, for embedders that match on codes (never on messages).
export { CODES, ERROR_CODES, isVirtualizeError, VirtualizeError, type ErrorCode, type ErrorCodeEntry } from './errors';
export { createRuntime, type Runtime, type RuntimeDeps } from './runtime/create-runtime';
export { createGeneration } from './runtime/generations';
export { startTracing, stopTracing } from './telemetry/tracing';
