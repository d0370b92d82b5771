/**
 * Who may see what a source definition serves: the same requirements `@authenticated`,
 * `@requiresScopes` and `@policy` declare in `schema/`, and `@mask` for a sensitive field, as
 * plain data, so that a source registered at run time is protected like the canonical model.
 */
import { z } from 'zod';
import { scopeName } from './client-auth';

/** OR of ANDs: `[["billing:read"], ["finance:admin"]]` lets a caller with either through. */
const anyOfAll = <T extends z.ZodType<string>>(item: T) => z.array(z.array(item).min(1)).min(1);

/** What a caller needs to select a source's types, an entity or a field. Every listed part must hold. */
export const accessDefinition = z.strictObject({
  /** Only an authenticated caller (not an anonymous one). */
  authenticated: z.boolean().optional(),
  /** Scopes, outer list OR, inner list AND, as `@requiresScopes(scopes:)`. */
  requiresScopes: anyOfAll(scopeName).optional(),
  /** Policy names decided by `auth.authorization.policies`, outer list OR, inner list AND, as `@policy(policies:)`. */
  policies: anyOfAll(z.string().min(1)).optional(),
});
export type AccessDefinition = z.infer<typeof accessDefinition>;

/** How a sensitive value is shown to a caller without the unmasking scope. */
export const maskRule = z.enum(['EMAIL', 'PHONE_LAST4', 'HIDDEN']);
export type MaskRule = z.infer<typeof maskRule>;

/** A sensitive field, as `@mask(rule:, unmaskScope:)`. */
export const maskDefinition = z.strictObject({
  /** EMAIL: `j***@example.com`; PHONE_LAST4: `***-***-1234`; HIDDEN: null. */
  rule: maskRule,
  /** A caller holding this scope sees the value as it is. */
  unmaskScope: scopeName.default('pii:read'),
});
export type MaskDefinition = z.infer<typeof maskDefinition>;
