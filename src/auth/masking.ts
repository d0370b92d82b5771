import { defaultFieldResolver, isObjectType, type GraphQLFieldResolver, type GraphQLSchema } from 'graphql';
import type { MaskRule } from '../config/definition';
import type { AccessModel, Mask } from './access-model';
import type { Caller } from './caller';

/** `john.doe@example.com` -> `j***@example.com`: enough to recognise, not enough to write to. */
function maskEmail(value: string): string {
  const at = value.lastIndexOf('@');
  if (at <= 0) return '***';
  return `${value[0]}***${value.slice(at)}`;
}

/** `+1 (415) 555-1234` -> `***-***-1234`. */
function maskPhone(value: string): string {
  const digits = value.replace(/\D/g, '');
  return digits.length >= 4 ? `***-***-${digits.slice(-4)}` : '***-***-****';
}

/** The value a caller without the unmasking scope sees. Lists are masked element by element. */
export function maskValue(rule: MaskRule, value: unknown): unknown {
  if (value === null || value === undefined) return value;
  if (Array.isArray(value)) return value.map((item) => maskValue(rule, item));
  if (rule === 'HIDDEN') return null;
  if (typeof value !== 'string') return null;
  return rule === 'EMAIL' ? maskEmail(value) : maskPhone(value);
}

/** Stitching's resolvers may answer with promise-likes that are not native promises. */
function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}

function callerOf(context: unknown): Caller | undefined {
  return (context as { caller?: Caller } | null)?.caller;
}

function masked(mask: Mask, resolve: GraphQLFieldResolver<unknown, unknown>): GraphQLFieldResolver<unknown, unknown> {
  return (source, args, context, info) => {
    const value = resolve(source, args, context, info);
    // No caller (a context not built by the server) is no unmasking scope: masked.
    if (callerOf(context)?.scopes.has(mask.unmaskScope) === true) return value;
    return isThenable(value) ? value.then((resolved) => maskValue(mask.rule, resolved)) : maskValue(mask.rule, value);
  };
}

const maskedSchemas = new WeakSet<GraphQLSchema>();

/**
 * Wraps the resolver of every masked field of a generation's stitched schema, once: the value
 * is masked where execution produces it, whatever path reached the field (directly, through a
 * join, inside a fragment), so the raw value never reaches the answer, the response tier, an
 * extension or a log. The caller is the request context's (`GatewayServerContext.caller`).
 */
export function applyMasks(schema: GraphQLSchema, model: AccessModel): void {
  if (maskedSchemas.has(schema)) return;
  maskedSchemas.add(schema);
  for (const [coordinate, mask] of model.masks) {
    const [typeName, fieldName] = coordinate.split('.') as [string, string];
    const type = schema.getType(typeName);
    const field = type && isObjectType(type) ? type.getFields()[fieldName] : undefined;
    if (field) field.resolve = masked(mask, field.resolve ?? defaultFieldResolver);
  }
}
