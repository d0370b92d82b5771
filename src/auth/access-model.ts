import {
  getNamedType,
  isNonNullType,
  isObjectType,
  isTypeDefinitionNode,
  Kind,
  print,
  valueFromASTUntyped,
  type ConstDirectiveNode,
  type DocumentNode,
  type GraphQLField,
  type GraphQLSchema,
} from 'graphql';
import type { Catalog } from '../catalog/catalog';
import type { AccessDefinition, FieldMapping, MaskDefinition, MaskRule, VirtualizationConfig } from '../config/definition';
import { CODES, VirtualizeError } from '../errors';
import type { CanonicalSchema } from '../federation/canonical-schema';
import type { Caller } from './caller';

/** One declared requirement (a directive, or an `access` of a definition); every part of it must hold. */
export interface AccessRule {
  readonly authenticated: boolean;
  /** OR of ANDs; undefined: no scope needed. */
  readonly scopes: readonly (readonly string[])[] | undefined;
  /** OR of ANDs of policy names; undefined: no policy needed. */
  readonly policies: readonly (readonly string[])[] | undefined;
}

/** A masked field: its rule, and the scope that sees the value as it is. */
export interface Mask {
  readonly rule: MaskRule;
  readonly unmaskScope: string;
}

/** A malformed authorization directive or definition, or one that does not fit the served schema: the generation is not built. */
export class AuthDirectiveError extends VirtualizeError<typeof CODES.INVALID_AUTH_DIRECTIVE> {
  constructor(message: string) {
    super(CODES.INVALID_AUTH_DIRECTIVE, message);
  }
}

const NO_RULES: readonly AccessRule[] = Object.freeze([]);
const DEFAULT_UNMASK_SCOPE = 'pii:read';
const SCOPE_PATTERN = /^[A-Za-z][A-Za-z0-9_.:-]*$/;
const MASK_RULES = new Set<string>(['EMAIL', 'PHONE_LAST4', 'HIDDEN']);

function argumentsOf(directive: ConstDirectiveNode): Record<string, unknown> {
  return Object.fromEntries((directive.arguments ?? []).map((arg) => [arg.name.value, valueFromASTUntyped(arg.value)]));
}

/** `[[String!]!]!` read strictly: a list of non-empty lists of names. */
function anyOfAll(value: unknown, where: string, example: string, scopes: boolean): string[][] {
  const ok =
    Array.isArray(value) &&
    value.length > 0 &&
    value.every((group) => Array.isArray(group) && group.length > 0 && group.every((name) => typeof name === 'string' && (!scopes || SCOPE_PATTERN.test(name))));
  if (!ok) throw new AuthDirectiveError(`${where}: expected a list of lists of ${scopes ? 'scopes' : 'policy names'} (outer list OR, inner list AND), e.g. ${example}`);
  return value as string[][];
}

function ruleOfDirective(directive: ConstDirectiveNode, where: string): AccessRule | undefined {
  const args = argumentsOf(directive);
  switch (directive.name.value) {
    case 'authenticated':
      return { authenticated: true, scopes: undefined, policies: undefined };
    case 'requiresScopes':
      return { authenticated: false, scopes: anyOfAll(args.scopes, `${where} ${print(directive)}`, '@requiresScopes(scopes: [["orders:read"]])', true), policies: undefined };
    case 'policy':
      return { authenticated: false, scopes: undefined, policies: anyOfAll(args.policies, `${where} ${print(directive)}`, '@policy(policies: [["sameTenant"]])', false) };
    default:
      return undefined;
  }
}

function maskOfDirective(directive: ConstDirectiveNode, where: string): Mask {
  const { rule, unmaskScope } = argumentsOf(directive);
  if (typeof rule !== 'string' || !MASK_RULES.has(rule)) throw new AuthDirectiveError(`${where}: ${print(directive)} needs rule: EMAIL, PHONE_LAST4 or HIDDEN`);
  if (unmaskScope !== undefined && (typeof unmaskScope !== 'string' || !SCOPE_PATTERN.test(unmaskScope))) {
    throw new AuthDirectiveError(`${where}: ${print(directive)} needs unmaskScope as a scope such as "pii:read"`);
  }
  return { rule: rule as MaskRule, unmaskScope: typeof unmaskScope === 'string' ? unmaskScope : DEFAULT_UNMASK_SCOPE };
}

function ruleOfAccess(access: AccessDefinition | undefined): AccessRule[] {
  if (!access) return [];
  const rule: AccessRule = { authenticated: access.authenticated === true, scopes: access.requiresScopes, policies: access.policies };
  return rule.authenticated || rule.scopes || rule.policies ? [rule] : [];
}

/**
 * Who may see what in one schema generation, compiled once from the canonical SDL's
 * `@authenticated`, `@requiresScopes`, `@policy` and `@mask`, and from the `access` and `mask`
 * declarations of the sources (so that generated types and sources registered at run time are
 * covered too). Keyed by `Type` and `Type.field`. Pure; no state between requests.
 */
export class AccessModel {
  private readonly typeRules = new Map<string, AccessRule[]>();
  private readonly fieldRules = new Map<string, AccessRule[]>();
  private readonly coordinateRules = new Map<string, readonly AccessRule[]>();
  readonly masks = new Map<string, Mask>();
  /** Every scope a rule or a mask names: the only scopes of a caller that can change an answer. */
  readonly scopes = new Set<string>();
  /** Every policy a rule names. */
  readonly policies = new Set<string>();
  usesAuthenticated = false;
  /** Types served by a source that forwards its caller (`forwardCaller`): answers that show them are the caller's own. */
  readonly perCallerTypes = new Set<string>();

  private constructor(readonly schema: GraphQLSchema) {}

  static forGateway(gateway: { schema: GraphQLSchema; canonical: CanonicalSchema; config: VirtualizationConfig; catalog: Catalog }): AccessModel {
    const model = new AccessModel(gateway.schema);
    model.readDocument(gateway.canonical.document);
    model.readCatalog(gateway.catalog);
    if (gateway.config.auth.introspection.scope) model.scopes.add(gateway.config.auth.introspection.scope);
    model.checkMasks();
    return model;
  }

  /** What selecting `field` of `parent` needs: the parent type's rules, the field's, and those of the type it returns. */
  rulesOf(parent: string, field: string): readonly AccessRule[] {
    const coordinate = `${parent}.${field}`;
    let rules = this.coordinateRules.get(coordinate);
    if (rules === undefined) {
      const type = this.schema.getType(parent);
      const definition: GraphQLField<unknown, unknown> | undefined = type && isObjectType(type) ? type.getFields()[field] : undefined;
      const returned = definition ? getNamedType(definition.type).name : undefined;
      const all = [...(this.typeRules.get(parent) ?? []), ...(this.fieldRules.get(coordinate) ?? []), ...(returned ? (this.typeRules.get(returned) ?? []) : [])];
      rules = all.length > 0 ? all : NO_RULES;
      this.coordinateRules.set(coordinate, rules);
    }
    return rules;
  }

  /** Whether selecting `field` of `parent` reads a source that answers per caller (`forwardCaller`). */
  perCaller(parent: string, field: string): boolean {
    if (this.perCallerTypes.size === 0) return false;
    if (this.perCallerTypes.has(parent)) return true;
    const type = this.schema.getType(parent);
    const definition = type && isObjectType(type) ? type.getFields()[field] : undefined;
    return definition !== undefined && this.perCallerTypes.has(getNamedType(definition.type).name);
  }

  /** A type's own rules (introspection hides a type the caller may not see). */
  rulesOfType(type: string): readonly AccessRule[] {
    return this.typeRules.get(type) ?? NO_RULES;
  }

  private add(map: Map<string, AccessRule[]>, key: string, rules: readonly AccessRule[]): void {
    if (rules.length === 0) return;
    let list = map.get(key);
    if (!list) map.set(key, (list = []));
    for (const rule of rules) {
      list.push(rule);
      if (rule.authenticated) this.usesAuthenticated = true;
      for (const group of rule.scopes ?? []) for (const scope of group) this.scopes.add(scope);
      for (const group of rule.policies ?? []) for (const policy of group) this.policies.add(policy);
    }
    this.coordinateRules.clear();
  }

  private addMask(coordinate: string, mask: Mask): void {
    this.masks.set(coordinate, mask);
    this.scopes.add(mask.unmaskScope);
  }

  private readDocument(document: DocumentNode): void {
    for (const definition of document.definitions) {
      if (!isTypeDefinitionNode(definition)) continue;
      const typeName = definition.name.value;
      const typeRules = (definition.directives ?? []).flatMap((directive) => ruleOfDirective(directive, typeName) ?? []);
      if (typeRules.length > 0 && definition.kind !== Kind.OBJECT_TYPE_DEFINITION) {
        throw new AuthDirectiveError(`${typeName}: @authenticated, @requiresScopes and @policy are read on object types and their fields only`);
      }
      this.add(this.typeRules, typeName, typeRules);
      if (definition.kind !== Kind.OBJECT_TYPE_DEFINITION) continue;
      for (const field of definition.fields ?? []) {
        const coordinate = `${typeName}.${field.name.value}`;
        const directives = field.directives ?? [];
        this.add(this.fieldRules, coordinate, directives.flatMap((directive) => ruleOfDirective(directive, coordinate) ?? []));
        const mask = directives.find((directive) => directive.name.value === 'mask');
        if (mask) this.addMask(coordinate, maskOfDirective(mask, coordinate));
      }
    }
  }

  /** Sources' and entities' `access`, fields' `access` and `mask`, carried onto the roots and joins that reach them. */
  private readCatalog(catalog: Catalog): void {
    const entityRules = new Map<string, AccessRule[]>();
    for (const entity of catalog.entities.values()) {
      const rules = [...ruleOfAccess(catalog.source(entity.source).definition.access), ...ruleOfAccess(entity.definition.access)];
      entityRules.set(entity.name, rules);
      if (catalog.source(entity.source).definition.forwardCaller) this.perCallerTypes.add(entity.name);
      this.add(this.typeRules, entity.name, rules);
      this.readFields(entity.name, entity.definition.fields, rules);
      // A root returns the entity (or its connection, which the entity's rules would not reach otherwise).
      const query = this.schema.getQueryType()?.name ?? 'Query';
      for (const root of [entity.roots.one, entity.roots.many, entity.roots.list]) {
        if (root) this.add(this.fieldRules, `${query}.${root}`, this.typeRules.get(entity.name) ?? []);
      }
    }
    for (const mapping of catalog.mappings.values()) {
      // A join and its summaries are served by the "to" side: they need what its records need.
      const toRules = entityRules.get(mapping.to.entity) ?? [];
      for (const field of [mapping.forward.field, ...mapping.forward.summaries]) this.add(this.fieldRules, `${mapping.from.entity}.${field}`, toRules);
      if (mapping.inverse) this.add(this.fieldRules, `${mapping.to.entity}.${mapping.inverse.field}`, entityRules.get(mapping.from.entity) ?? []);
    }
  }

  private readFields(typeName: string, fields: Readonly<Record<string, FieldMapping>>, inherited: readonly AccessRule[]): void {
    for (const [name, mapping] of Object.entries(fields)) {
      if (typeof mapping === 'string') continue;
      const coordinate = `${typeName}.${name}`;
      this.add(this.fieldRules, coordinate, ruleOfAccess(mapping.access));
      if (mapping.mask) this.addMask(coordinate, maskOfDefinition(mapping.mask));
      if (mapping.items) {
        // Nested records (order lines) are the entity's records: the same rules guard their type.
        this.add(this.typeRules, mapping.items.type, inherited);
        this.readFields(mapping.items.type, mapping.items.fields, inherited);
      }
    }
  }

  /** A mask must fit its field: text for EMAIL and PHONE_LAST4, a nullable field for HIDDEN. */
  private checkMasks(): void {
    for (const [coordinate, mask] of this.masks) {
      const [typeName, fieldName] = coordinate.split('.') as [string, string];
      const type = this.schema.getType(typeName);
      const field = type && isObjectType(type) ? type.getFields()[fieldName] : undefined;
      // Declared in schema/ for a type no source serves in this generation: nothing to mask.
      if (!field) continue;
      if (mask.rule === 'HIDDEN' && isNonNullType(field.type)) throw new AuthDirectiveError(`${coordinate}: @mask(rule: HIDDEN) shows null, which a non-null field cannot hold; make the field nullable`);
      if (mask.rule !== 'HIDDEN' && getNamedType(field.type).name !== 'String') throw new AuthDirectiveError(`${coordinate}: @mask(rule: ${mask.rule}) masks text; use HIDDEN for a field of type ${getNamedType(field.type).name}`);
    }
  }
}

function maskOfDefinition(mask: MaskDefinition): Mask {
  return { rule: mask.rule, unmaskScope: mask.unmaskScope };
}

/** The outcome of each policy a request needed, decided at most once per request. */
export type PolicyOutcomes = ReadonlyMap<string, boolean>;

/** Whether `caller` meets every rule (an undecided policy denies). */
export function allows(rules: readonly AccessRule[], caller: Caller, outcomes: PolicyOutcomes): boolean {
  return rules.every(
    (rule) =>
      (!rule.authenticated || caller.kind !== 'anonymous') &&
      (!rule.scopes || rule.scopes.some((group) => group.every((scope) => caller.scopes.has(scope)))) &&
      (!rule.policies || rule.policies.some((group) => group.every((policy) => outcomes.get(policy) === true))),
  );
}

/** What the rules need, in words for a refusal: `customers:read`, `orders:read and pii:read`, `policy sameTenant`. */
export function describeRules(rules: readonly AccessRule[]): string {
  const alternatives = (groups: readonly (readonly string[])[], prefix: string) => groups.map((group) => group.map((name) => `${prefix}${name}`).join(' and ')).join(' or ');
  const parts = new Set<string>();
  for (const rule of rules) {
    if (rule.authenticated) parts.add('an authenticated caller');
    if (rule.scopes) parts.add(rule.scopes.length > 1 ? `(${alternatives(rule.scopes, 'scope ')})` : alternatives(rule.scopes, 'scope '));
    if (rule.policies) parts.add(rule.policies.length > 1 ? `(${alternatives(rule.policies, 'policy ')})` : alternatives(rule.policies, 'policy '));
  }
  return [...parts].join(', ');
}
