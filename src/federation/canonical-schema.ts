import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  GraphQLError,
  Kind,
  parse,
  visit,
  type DefinitionNode,
  type DocumentNode,
  type FieldDefinitionNode,
  type ObjectTypeDefinitionNode,
  type TypeDefinitionNode,
} from 'graphql';

/**
 * Directives that only the query cost guard (`src/guard/`) and authorization (`src/auth/`) read.
 * They are kept in `document` and left out of the type definitions that sources build their
 * subschemas from: a subschema would need their definitions, and stitching does not carry applied
 * directives through anyway.
 */
const GUARD_DIRECTIVES = new Set(['cost', 'listSize', 'authenticated', 'requiresScopes', 'policy', 'mask']);

/** Types that only directives' arguments use (`@mask(rule:)`): never part of the served schema. */
const DIRECTIVE_ONLY_TYPES = new Set(['MaskRule']);

/**
 * The unified model from `schema/*.graphql`: the names, types and descriptions consumers see.
 * Sources map onto it; what it does not define, a source's declaration defines.
 */
export class CanonicalSchema {
  private readonly types = new Map<string, TypeDefinitionNode>();

  /** `document` is the SDL as written, cost directives included. */
  constructor(readonly document: DocumentNode) {
    const withoutGuardDirectives = visit(document, {
      Directive: (node) => (GUARD_DIRECTIVES.has(node.name.value) ? null : undefined),
    });
    for (const definition of withoutGuardDirectives.definitions) {
      if (isTypeDefinition(definition) && !DIRECTIVE_ONLY_TYPES.has(definition.name.value)) this.types.set(definition.name.value, definition);
    }
  }

  /** No hand-written types: every type is as the sources declare it. */
  static empty(): CanonicalSchema {
    return new CanonicalSchema({ kind: Kind.DOCUMENT, definitions: [] });
  }

  /**
   * The `*.graphql` files of `directory`, in name order; a directory without any is the empty
   * model. The directives that the guard and authorization read (`@cost`, `@listSize`,
   * `@authenticated`, ...) are the product's: the files need not define them.
   */
  static fromDirectory(directory: string): CanonicalSchema {
    let entries: string[];
    try {
      entries = readdirSync(directory);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') {
        throw new Error(`schemaDir ${directory} is not a directory: create it with the canonical types (*.graphql), or leave schemaDir out to serve the types as the sources declare them`);
      }
      throw error;
    }
    const files = entries.filter((file) => file.endsWith('.graphql')).sort();
    const parts = files.map((file) => ({ file, text: readFileSync(join(directory, file), 'utf8') }));
    if (parts.every((part) => part.text.trim() === '')) return CanonicalSchema.empty();
    const definitions = parts.flatMap(({ file, text }) => {
      if (text.trim() === '') return [];
      try {
        return [...parse(text, { noLocation: true }).definitions];
      } catch (error) {
        const line = error instanceof GraphQLError ? error.locations?.[0]?.line : undefined;
        throw new Error(`${join(directory, file)}${line ? `:${line}` : ''}: ${error instanceof Error ? error.message : String(error)}`);
      }
    });
    return new CanonicalSchema({ kind: Kind.DOCUMENT, definitions });
  }

  type(name: string): TypeDefinitionNode | undefined {
    return this.types.get(name);
  }

  object(name: string): ObjectTypeDefinitionNode | undefined {
    const type = this.types.get(name);
    return type?.kind === Kind.OBJECT_TYPE_DEFINITION ? type : undefined;
  }

  field(typeName: string, fieldName: string): FieldDefinitionNode | undefined {
    return this.object(typeName)?.fields?.find((field) => field.name.value === fieldName);
  }

  objectTypes(): ObjectTypeDefinitionNode[] {
    return [...this.types.values()].filter((type): type is ObjectTypeDefinitionNode => type.kind === Kind.OBJECT_TYPE_DEFINITION);
  }
}

function isTypeDefinition(definition: DefinitionNode): definition is TypeDefinitionNode {
  return (
    definition.kind === Kind.OBJECT_TYPE_DEFINITION ||
    definition.kind === Kind.ENUM_TYPE_DEFINITION ||
    definition.kind === Kind.SCALAR_TYPE_DEFINITION ||
    definition.kind === Kind.INPUT_OBJECT_TYPE_DEFINITION ||
    definition.kind === Kind.INTERFACE_TYPE_DEFINITION ||
    definition.kind === Kind.UNION_TYPE_DEFINITION
  );
}
