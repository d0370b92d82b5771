import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DefinitionDocumentInput, SourceDefinitionInput } from '../../src/config/definition';
import { BILLING_BASE_PATH, type BillingSandboxHandle } from '../../sources/billing/server';
import { PROJECT_ROOT } from './harness';

/** The billing definition an architect registers (`sources/billing/definition.json`), as data. */
export function billingDocument(): DefinitionDocumentInput & { sources: Record<string, SourceDefinitionInput> } {
  return JSON.parse(readFileSync(join(PROJECT_ROOT, 'sources/billing/definition.json'), 'utf8')) as DefinitionDocumentInput & { sources: Record<string, SourceDefinitionInput> };
}

/** The environment a gateway needs for that definition: where billing is, and its key. */
export function billingEnv(billing: BillingSandboxHandle, apiKey = 'billing-test-key'): NodeJS.ProcessEnv {
  return { BILLING_URL: `${billing.url}${BILLING_BASE_PATH}`, BILLING_API_KEY: apiKey };
}
