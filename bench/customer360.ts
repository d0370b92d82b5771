/**
 * The operation the benchmark measures: the customer 360 of `virtualization.config.ts`
 * (`examples[0]`, the one GraphiQL opens with) over a page of 50 customers.
 */
import config from '../virtualization.config';

export const PAGE_SIZE = 50;

function exampleQuery(): string {
  const example = config.examples?.[0];
  if (!example) throw new Error('virtualization.config.ts has no examples[0]: the benchmark measures the first example operation');
  return example.query;
}

export const CUSTOMER_360 = {
  name: config.examples?.[0]?.name ?? 'Customer 360',
  query: exampleQuery(),
  variables: { first: PAGE_SIZE },
} as const;
