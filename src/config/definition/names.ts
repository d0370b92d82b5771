/**
 * The names a definition gives things: identifiers of sources and mappings, GraphQL type names of
 * entities, GraphQL field names of canonical fields. One rule each, so that every part of the format
 * refuses a bad name with the same words.
 */
import { z } from 'zod';

export const identifier = z
  .string()
  .regex(/^[A-Za-z][A-Za-z0-9]*$/, 'use letters and digits only, starting with a letter');
export const typeName = z.string().regex(/^[A-Z][A-Za-z0-9]*$/, 'use a PascalCase GraphQL type name, e.g. Invoice');
export const fieldName = z.string().regex(/^[a-z][A-Za-z0-9]*$/, 'use a camelCase GraphQL field name, e.g. placedAt');
