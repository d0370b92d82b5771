import type { CatalogLookup } from '../catalog/catalog-entries';

const NUMBER = /^-?[0-9]+(\.[0-9]+)?$/;

/**
 * Values a lookup can never find are answered as not found without a call: an empty value, one
 * holding the batch separator (the source would read it as several), one that breaks the lookup's
 * declared pattern. Sources answer such values with a 400, and in a batch that fails every other
 * value of the batch too.
 */
export function askableValues(lookup: CatalogLookup): (value: string) => boolean {
  const pattern = lookup.pattern === undefined ? undefined : new RegExp(lookup.pattern);
  const separator = lookup.batch?.separator;
  const numeric = lookup.valueType === 'number';
  return (value) =>
    value !== '' &&
    !(separator !== undefined && value.includes(separator)) &&
    (pattern === undefined || pattern.test(value)) &&
    (!numeric || NUMBER.test(value));
}
