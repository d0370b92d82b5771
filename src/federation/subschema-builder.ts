import type { MergedTypeConfig, SubschemaConfig } from '@graphql-tools/delegate';
import { makeExecutableSchema } from '@graphql-tools/schema';
import {
  parse,
  print,
  visit,
  type DocumentNode,
  type GraphQLFieldResolver,
  type TypeDefinitionNode,
} from 'graphql';
import { isVirtualizeError, toGraphQLError } from '../errors';
import type { CanonicalSchema } from './canonical-schema';

const BUILT_IN_SCALARS = new Set(['String', 'Int', 'Float', 'Boolean', 'ID']);

type Resolver = GraphQLFieldResolver<unknown, unknown, Record<string, unknown>>;

export interface FieldSpec {
  /** The field's SDL in canonical type names, e.g. `orders(first: Int): [Order!]!`. */
  sdl: string;
  resolve?: Resolver;
}

/**
 * A failure raised on purpose (a source failure names its source and route) as the GraphQL error
 * of the one field it fails, with its stable code; anything else is left as it is, for the
 * server's error masking.
 */
export function asGraphQLError(error: unknown): unknown {
  return isVirtualizeError(error) ? toGraphQLError(error, { phase: 'field' }) : error;
}

function rethrowAsGraphQLError(error: unknown): never {
  throw asGraphQLError(error);
}

function withSourceErrors(resolve: Resolver): Resolver {
  return (parent, args, context, info) => {
    try {
      const value = resolve(parent, args, context, info);
      return value instanceof Promise ? value.catch(rethrowAsGraphQLError) : value;
    } catch (error) {
      return rethrowAsGraphQLError(error);
    }
  };
}

/**
 * Collects the types, fields, resolvers and merge entry points of one source's subschema, in
 * canonical names, and builds it at the end. The subschema uses the canonical names themselves:
 * each source's schema is its own, so helper types two sources define alike (`DateTime`,
 * `PageInfo`) cannot collide inside one, and stitching decides across them what merges. No
 * renaming transform stands between the gateway and a source, so a delegation's request and
 * result pass through unchanged (a transform would walk both, every request).
 */
export class SubschemaBuilder {
  private readonly objects = new Map<string, { description?: string; fields: Map<string, FieldSpec> }>();
  private readonly extraTypes = new Map<string, string>();
  private readonly merge: Record<string, MergedTypeConfig> = {};

  constructor(
    readonly source: string,
    private readonly canonical: CanonicalSchema,
  ) {}

  object(typeName: string, description?: string): Map<string, FieldSpec> {
    let entry = this.objects.get(typeName);
    if (!entry) {
      entry = { description: description ?? this.canonicalDescription(typeName), fields: new Map() };
      this.objects.set(typeName, entry);
    }
    return entry.fields;
  }

  addField(typeName: string, name: string, spec: FieldSpec): void {
    const fields = this.object(typeName);
    if (fields.has(name)) throw new Error(`Source ${this.source}: field ${typeName}.${name} is declared twice`);
    fields.set(name, spec.resolve ? { ...spec, resolve: withSourceErrors(spec.resolve) } : spec);
  }

  /** A type definition (SDL in canonical names) that no canonical file provides. */
  addType(name: string, sdl: string): void {
    if (!this.extraTypes.has(name)) this.extraTypes.set(name, sdl);
  }

  addMerge(typeName: string, config: MergedTypeConfig): void {
    this.merge[typeName] = config;
  }

  private canonicalDescription(typeName: string): string | undefined {
    const type = this.canonical.type(typeName);
    return type?.description?.value;
  }

  private document(): DocumentNode {
    const parts: string[] = [];
    for (const [typeName, { description, fields }] of this.objects) {
      const body = [...fields.entries()].map(([, spec]) => `  ${spec.sdl}`).join('\n');
      parts.push(`${description ? `${JSON.stringify(description)}\n` : ''}type ${typeName} {\n${body}\n}`);
    }
    const defined = new Set([...this.objects.keys()]);
    const pending = collectNamedTypes(parse(parts.join('\n\n')));
    // Pull in every referenced type that is not an entity of this source: enums, scalars and
    // value types (order lines, page info), from the canonical files or the source's declaration.
    while (pending.length > 0) {
      const name = pending.pop()!;
      if (defined.has(name) || BUILT_IN_SCALARS.has(name)) continue;
      defined.add(name);
      const canonical: TypeDefinitionNode | undefined = this.canonical.type(name);
      const sdl = this.extraTypes.get(name) ?? (canonical ? print(canonical) : undefined);
      if (!sdl) throw new Error(`Source ${this.source}: type ${name} is used but defined nowhere; add it to schema/ or give the field a type`);
      parts.push(sdl);
      pending.push(...collectNamedTypes(parse(sdl)));
    }
    return parse(parts.join('\n\n'), { noLocation: true });
  }

  build(): SubschemaConfig {
    const resolvers: Record<string, Record<string, Resolver>> = {};
    for (const [typeName, { fields }] of this.objects) {
      for (const [fieldName, spec] of fields) {
        if (spec.resolve) (resolvers[typeName] ??= {})[fieldName] = spec.resolve;
      }
    }
    const schema = makeExecutableSchema({ typeDefs: this.document(), resolvers });
    return { schema, name: this.source, merge: this.merge };
  }
}

function collectNamedTypes(document: DocumentNode): string[] {
  const names: string[] = [];
  visit(document, {
    NamedType: (node) => {
      names.push(node.name.value);
    },
  });
  return names;
}

/** `[Order!]!` -> `Order`. */
export function namedTypeOf(typeRef: string): string {
  return typeRef.replace(/[[\]!]/g, '');
}

