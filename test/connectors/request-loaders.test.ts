/**
 * The request loaders on their own, against a scripted lookup runner (no HTTP) or a fake source:
 * DataLoader's contract (for every key its value or its Error, in the order of the keys; one
 * failing key rejects only that key), what a misused batch function looks like, batching by the
 * tick and by the lookup's batch size, and records primed into the entity's unique lookups.
 */
import DataLoader from 'dataloader';
import type { Catalog } from '../../src/catalog/catalog';
import { compileCatalog } from '../../src/catalog/compile-catalog';
import { sourceDefinition, type SourceDefinitionInput } from '../../src/config/definition';
import type { Delegation } from '../../src/connectors/delegation';
import type { CanonicalRecord } from '../../src/connectors/record-mapper';
import { RequestLoaders, type LookupRunner } from '../../src/connectors/request-loaders';
import { SourceConnector } from '../../src/connectors/source-connector';
import type { UpstreamCall } from '../../src/connectors/upstream-call';
import { startFakeSource, type FakeSource } from '../support/fake-source';

const WIDGETS = [
  { id: '1', email: 'Ann@Example.com', size: 'S' },
  { id: '2', email: 'bob@example.com', size: 'M' },
  { id: '3', email: 'cy@example.com', size: 'S' },
  { id: '4', email: 'di@example.com', size: 'L' },
];

function definition(baseUrl: string): SourceDefinitionInput {
  return {
    baseUrl,
    entities: {
      Widget: {
        key: 'id',
        fields: { id: 'widget_id', email: 'email', size: 'size' },
        lookups: {
          id: { path: '/widgets', query: { ids: '{values}' }, resultPath: 'items', unique: true, batch: { maxSize: 3 } },
          email: { path: '/widgets/by-email/{value}', resultPath: 'items', unique: true },
          size: { path: '/widgets/by-size/{value}', resultPath: 'items', unique: false },
        },
        list: { path: '/widgets', resultPath: 'items', paging: { type: 'cursor', cursorParam: 'after', limitParam: 'limit', maxPageSize: 100, nextCursorPath: 'next' } },
      },
    },
  };
}

/** A lookup runner that answers from WIDGETS (or from `answer`) and records the values of each batch. */
function scriptedRunner(answer?: (field: string, values: readonly string[]) => Map<string, CanonicalRecord[] | Error>) {
  const batches: Array<{ field: string; values: string[] }> = [];
  const runner: LookupRunner = async (_connector, _entity, field, values) => {
    batches.push({ field, values: [...values] });
    if (answer) return answer(field, values);
    const groups = new Map<string, CanonicalRecord[]>();
    // Answered in reverse: the loaders must match records back by key, never by position.
    for (const value of [...values].reverse()) groups.set(value, WIDGETS.filter((widget) => widget[field as keyof (typeof WIDGETS)[number]] === value));
    return groups;
  };
  return { runner, batches };
}

describe('request loaders', () => {
  let connector: SourceConnector;
  let catalog: Catalog;
  const setUp = (baseUrl = 'http://127.0.0.1:9') => {
    const parsed = sourceDefinition.parse(definition(baseUrl));
    catalog = compileCatalog({ sources: { widgets: parsed }, mappings: {} });
    connector = new SourceConnector('widgets', parsed, { catalog });
  };
  afterEach(() => connector.close());

  const loadersWith = (runner: LookupRunner, delegate?: (delegation: Delegation) => void, observe?: (call: UpstreamCall) => void) =>
    new RequestLoaders(
      new Map([['widgets', connector]]),
      observe,
      delegate
        ? (delegation, run) => {
            delegate(delegation);
            return run();
          }
        : undefined,
      runner,
    );

  describe("DataLoader's contract", () => {
    beforeEach(() => setUp());

    it('answers every key with its records, in the order of the keys, in one batch for the keys of one tick', async () => {
      const { runner, batches } = scriptedRunner();
      const delegations: Delegation[] = [];
      const loaders = loadersWith(runner, (delegation) => delegations.push(delegation));
      const byId = catalog.loader('Widget', 'id');
      const [each, one] = await Promise.all([loaders.loadEach(byId, ['3', '1', '2', '3']), loaders.loadOne(byId, '4')]);
      expect(each).toEqual([[WIDGETS[2]], [WIDGETS[0]], [WIDGETS[1]], [WIDGETS[2]]]);
      expect(one).toEqual(WIDGETS[3]);
      // One batch of the distinct keys, as one delegation of that size.
      expect(batches).toEqual([{ field: 'id', values: ['3', '1', '2', '4'] }]);
      expect(delegations).toEqual([{ source: 'widgets', entity: 'Widget', lookup: 'id', batchSize: 4 }]);
      // Asked again in the same request, the keys are answered from the loader: no second batch.
      await loaders.loadEach(byId, ['1', '2']);
      expect(batches).toHaveLength(1);
    });

    it('answers a key with no record, or one the runner left out of its answer, with an empty list', async () => {
      const { runner } = scriptedRunner((_field, values) => new Map(values.filter((value) => value !== '2').map((value) => [value, []])));
      const loaders = loadersWith(runner);
      expect(await loaders.loadEach(catalog.loader('Widget', 'id'), ['1', '2'])).toEqual([[], []]);
      expect(await loaders.loadOne(catalog.loader('Widget', 'id'), '9')).toBeNull();
    });

    it('drops records of keys nobody asked for, and keeps the answer of each asked key in its place', async () => {
      const { runner } = scriptedRunner(
        () =>
          new Map<string, CanonicalRecord[]>([
            ['4', [WIDGETS[3]!]],
            ['2', [WIDGETS[1]!]],
            ['1', [WIDGETS[0]!]],
          ]),
      );
      const loaders = loadersWith(runner);
      expect(await loaders.loadEach(catalog.loader('Widget', 'id'), ['1', '2'])).toEqual([[WIDGETS[0]], [WIDGETS[1]]]);
    });

    it('rejects only the key whose value is an Error; the others of its batch are served', async () => {
      const failure = new Error('the source reported an error for 2');
      const { runner, batches } = scriptedRunner((_field, values) => new Map(values.map((value) => [value, value === '2' ? failure : WIDGETS.filter((w) => w.id === value)])));
      const loaders = loadersWith(runner);
      const byId = catalog.loader('Widget', 'id');
      const [each, failed, served] = await Promise.all([
        loaders.loadEach(byId, ['1', '2', '3']),
        loaders.loadOne(byId, '2').catch((error: unknown) => error),
        loaders.loadOne(byId, '3'),
      ]);
      expect(each).toEqual([[WIDGETS[0]], failure, [WIDGETS[2]]]);
      expect(failed).toBe(failure);
      expect(served).toEqual(WIDGETS[2]);
      // loadMany wants every key: the first failure rejects it, still without another batch.
      await expect(loaders.loadMany(byId, ['1', '2'])).rejects.toBe(failure);
      expect(batches).toHaveLength(1);
    });

    it('rejects every key of a batch whose runner throws, and asks for them again on the next load', async () => {
      let calls = 0;
      const runner: LookupRunner = async (_connector, _entity, _field, values) => {
        calls += 1;
        if (calls === 1) throw new Error('the runner broke');
        return new Map(values.map((value) => [value, WIDGETS.filter((w) => w.id === value)]));
      };
      const loaders = loadersWith(runner);
      const byId = catalog.loader('Widget', 'id');
      const first = await loaders.loadEach(byId, ['1', '2']);
      expect(first.map((result) => (result instanceof Error ? result.message : result))).toEqual(['the runner broke', 'the runner broke']);
      // A whole failed batch is not kept: the keys are fetched again.
      expect(await loaders.loadEach(byId, ['1', '2'])).toEqual([[WIDGETS[0]], [WIDGETS[1]]]);
      expect(calls).toBe(2);
    });

    it('answers empty key lists at once, and a single key without a list around its error', async () => {
      const { runner, batches } = scriptedRunner((_field, values) => new Map(values.map((value) => [value, new Error(`no ${value}`)])));
      const loaders = loadersWith(runner);
      const byId = catalog.loader('Widget', 'id');
      expect(await loaders.loadMany(byId, [])).toEqual([]);
      expect(await loaders.loadEach(byId, [])).toEqual([]);
      expect(batches).toHaveLength(0);
      await expect(loaders.loadMany(byId, ['7'])).rejects.toThrow('no 7');
    });

    it('shows what a misused batch function looks like: DataLoader rejects every key with its contract', async () => {
      // The loaders answer by `keys.map(...)`, so that their batches always keep this contract.
      const wrongLength = new DataLoader<string, string>(async (keys) => keys.slice(1));
      const results = await wrongLength.loadMany(['a', 'b', 'c']);
      expect(results).toHaveLength(3);
      for (const result of results) {
        expect(result).toBeInstanceOf(TypeError);
        expect((result as Error).message).toMatch(/did not return a Promise of an Array of the same length as the Array of keys\.\n\nKeys:\na,b,c\n\nValues:\nb,c/);
      }
      const notAnArray = new DataLoader<string, string>(async () => 'nope' as unknown as string[]);
      await expect(notAnArray.load('a')).rejects.toThrow(/did not return a Promise of an Array: nope/);
      // Values out of order are not detectable by DataLoader: they are served to the wrong keys.
      const positional = new DataLoader<string, string>(async (keys) => [...keys].reverse());
      expect(await positional.loadMany(['a', 'b'])).toEqual(['b', 'a']);
    });
  });

  describe('batching by the batch size', () => {
    let source: FakeSource;
    beforeEach(async () => {
      source = await startFakeSource(({ path }) => {
        const url = new URL(path, 'http://x');
        const ids = url.searchParams.get('ids')?.split(',') ?? [decodeURIComponent(url.pathname.split('/').pop() ?? '')];
        const field = url.pathname.startsWith('/widgets/by-size/') ? 'size' : url.pathname.startsWith('/widgets/by-email/') ? 'email' : 'id';
        const items = WIDGETS.filter((w) => ids.includes(w[field])).map((w) => ({ widget_id: w.id, email: w.email, size: w.size }));
        return { body: JSON.stringify({ items }) };
      });
      setUp(source.origin);
    });
    afterEach(() => source.close());

    it('splits the keys of one tick into calls of at most the batch size, and calls once per key without a batch endpoint', async () => {
      const calls: UpstreamCall[] = [];
      const loaders = new RequestLoaders(new Map([['widgets', connector]]), (call) => calls.push(call));
      const byId = catalog.loader('Widget', 'id');
      const ids = ['1', '2', '3', '4', '5', '6', '7'];
      const found = await loaders.loadEach(byId, ids);
      expect(found.map((records) => (Array.isArray(records) ? records.map((r) => r.id) : records))).toEqual([['1'], ['2'], ['3'], ['4'], [], [], []]);
      expect(catalog.lookup('Widget', 'id').batchSize).toBe(3);
      expect(calls.map((call) => call.batchSize).sort()).toEqual([1, 3, 3]);

      calls.length = 0;
      const bySize = await loaders.loadEach(catalog.loader('Widget', 'size'), ['S', 'M', 'S']);
      expect(bySize.map((records) => (Array.isArray(records) ? records.map((r) => r.id) : records))).toEqual([['1', '3'], ['2'], ['1', '3']]);
      expect(calls.map((call) => call.route)).toEqual(['GET /widgets/by-size/{value}', 'GET /widgets/by-size/{value}']);
    });
  });

  describe('priming', () => {
    beforeEach(() => setUp());

    it("offers the records a list fetched to the entity's unique lookups, keys normalized as each loader's, and not to the others", async () => {
      const { runner, batches } = scriptedRunner();
      const loaders = loadersWith(runner);
      const page = { records: [WIDGETS[0]!, WIDGETS[1]!], nextCursor: null, hasNextPage: false, totalCount: 2 };
      jest.spyOn(connector, 'list').mockResolvedValue(page);
      const byEmail = catalog.loader('Widget', 'email', 'lowercase');
      // A loader made before the list is primed as the records arrive; one made after, when it is made.
      expect(loaders.loader(byEmail)).toBeDefined();
      expect(await loaders.list(catalog.entity('Widget').list!, { first: 2 })).toBe(page);
      expect(await loaders.loadOne(catalog.loader('Widget', 'id'), '2')).toEqual(WIDGETS[1]);
      expect(await loaders.loadOne(byEmail, 'ann@example.com')).toEqual(WIDGETS[0]);
      expect(batches).toEqual([]);
      // A lookup by a field that names many records is never primed: it asks the source.
      await loaders.loadEach(catalog.loader('Widget', 'size'), ['S']);
      expect(batches).toEqual([{ field: 'size', values: ['S'] }]);
    });

    it('offers the records one unique lookup fetched to the others, so that a join back costs no call', async () => {
      const { runner, batches } = scriptedRunner();
      const loaders = loadersWith(runner);
      await loaders.loadOne(catalog.loader('Widget', 'id'), '3');
      expect(await loaders.loadOne(catalog.loader('Widget', 'email'), 'cy@example.com')).toEqual(WIDGETS[2]);
      expect(batches).toEqual([{ field: 'id', values: ['3'] }]);
      // Each request has loaders of its own: another request asks the source again.
      await loadersWith(runner).loadOne(catalog.loader('Widget', 'email'), 'cy@example.com');
      expect(batches).toEqual([
        { field: 'id', values: ['3'] },
        { field: 'email', values: ['cy@example.com'] },
      ]);
    });
  });
});
