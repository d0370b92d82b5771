import { createHash } from 'node:crypto';
import { Kind, print, visit, type DocumentNode, type ExecutionResult } from 'graphql';
import { isAsyncIterable, type Plugin } from 'graphql-yoga';
import { LRUCache } from 'lru-cache';
import type { CacheDefinition } from '../config/definition';
import type { CacheCounter } from './upstream-cache';

interface CachedAnswer {
  result: ExecutionResult;
  storedAt: number;
  tags: string[];
}

/** How many distinct combinations the admission rule remembers (a bound, not a tuning knob). */
const ADMISSION_MEMORY = 50_000;

/** Operations an answer was asked for, printed once per parsed document. */
const printed = new WeakMap<DocumentNode, string>();
function printedOf(document: DocumentNode): string {
  let text = printed.get(document);
  if (text === undefined) printed.set(document, (text = print(document)));
  return text;
}

/** Leaf values of an answer that can name an entity (ids, refs, emails): what an answer is tagged with. */
function tagsOf(value: unknown, into: Set<string>): Set<string> {
  if (Array.isArray(value)) for (const item of value) tagsOf(item, into);
  else if (value !== null && typeof value === 'object') for (const item of Object.values(value)) tagsOf(item, into);
  else if ((typeof value === 'string' && value.length > 0 && value.length <= 200) || typeof value === 'number') into.add(String(value));
  return into;
}

/** String and number literals of a document's arguments: the keys an operation asks for inline. */
function literalsOf(document: DocumentNode): string[] {
  const literals: string[] = [];
  visit(document, {
    [Kind.STRING]: (node) => void literals.push(node.value),
    [Kind.INT]: (node) => void literals.push(node.value),
  });
  return literals;
}

/**
 * Hot responses: whole answers of queries asked often. The key is the operation (as printed),
 * its name, its variables and the caller's scope (the `scopeHeader` request header), so that two
 * scopes never share an answer. A combination is admitted once it has been asked `admitAfter`
 * times within `windowMs`, so one-off queries do not churn the tier. Answers with errors (partial
 * answers) are never stored. Answers are tagged with the entity key values they contain, so that
 * an invalidation of an entity drops every answer that shows it.
 */
export class ResponseCache {
  private readonly answers: LRUCache<string, CachedAnswer>;
  private readonly asked: LRUCache<string, number[]>;
  private readonly tags = new Map<string, Set<string>>();

  constructor(
    readonly config: CacheDefinition['responses'],
    public count: CacheCounter = () => undefined,
  ) {
    this.answers = new LRUCache<string, CachedAnswer>({
      maxSize: config.maxBytes,
      sizeCalculation: (answer, key) => 2 * (key.length + JSON.stringify(answer.result).length) + 64,
      ttl: config.ttlMs,
      dispose: (answer, key) => this.untag(key, answer.tags),
    });
    this.asked = new LRUCache<string, number[]>({ max: ADMISSION_MEMORY, ttl: config.windowMs });
  }

  get size(): number {
    return this.answers.size;
  }

  get bytes(): number {
    return this.answers.calculatedSize;
  }

  /** A digest, so that the admission memory and the index stay small whatever the documents' size. */
  keyOf(document: DocumentNode, operationName: string | null | undefined, variables: unknown, scope: string): string {
    return createHash('sha256').update(JSON.stringify([scope, operationName ?? null, variables ?? null, printedOf(document)])).digest('base64url');
  }

  get(key: string): CachedAnswer | undefined {
    const answer = this.answers.get(key);
    this.count('response', answer ? 'hit' : 'miss');
    return answer;
  }

  /** Counts one asking of `key`; true once the combination is hot. */
  admit(key: string): boolean {
    const now = Date.now();
    const times = (this.asked.get(key) ?? []).filter((at) => now - at < this.config.windowMs);
    times.push(now);
    this.asked.set(key, times.slice(-this.config.admitAfter));
    return times.length >= this.config.admitAfter;
  }

  /**
   * `asked` are the operation's inputs (variables, literal arguments): an answer is tagged with
   * them too, so that `customer(id: X) { name }` is dropped when X changes although it shows no id.
   */
  store(key: string, result: ExecutionResult, asked: unknown = null): void {
    if (result.errors?.length || !result.data) return;
    const tags = [...tagsOf(asked, tagsOf(result.data, new Set()))];
    this.answers.set(key, { result: { data: result.data }, storedAt: Date.now(), tags });
    if (!this.answers.has(key)) return;
    for (const tag of tags) {
      let keys = this.tags.get(tag);
      if (!keys) this.tags.set(tag, (keys = new Set()));
      keys.add(key);
    }
  }

  private untag(key: string, tags: readonly string[]): void {
    for (const tag of tags) {
      const keys = this.tags.get(tag);
      keys?.delete(key);
      if (keys?.size === 0) this.tags.delete(tag);
    }
  }

  /** Drops every answer that contains one of `values`. */
  invalidateValues(values: Iterable<string>): number {
    let dropped = 0;
    for (const value of values) {
      for (const key of [...(this.tags.get(value) ?? [])]) if (this.answers.delete(key)) dropped += 1;
    }
    return dropped;
  }

  clear(): void {
    this.answers.clear();
    this.asked.clear();
    this.tags.clear();
  }
}

/** Header of an answer served from the response tier: the age of the answer in milliseconds. */
export const RESPONSE_AGE_EXTENSION = 'responseCache';

/** The yoga plugin of the response tier; put it after the guard, so that a hot answer is still charged. */
export function useResponseCache(cache: ResponseCache): Plugin {
  return {
    onExecute({ args, setResultAndStopExecution }) {
      if (!cache.config.enabled) return;
      const operation = (args.document as DocumentNode).definitions.find((definition) => definition.kind === 'OperationDefinition');
      if (operation?.kind !== 'OperationDefinition' || operation.operation !== 'query') return;
      const request = (args.contextValue as { request?: Request }).request;
      // An answer belongs to the schema version it was computed on: a hot reload starts afresh.
      const version = (args.contextValue as { generation?: { version: number } }).generation?.version ?? 0;
      const scope = `${request?.headers.get(cache.config.scopeHeader) ?? ''}\u0000v${version}`;
      const key = cache.keyOf(args.document, args.operationName, args.variableValues, scope);
      const hit = cache.get(key);
      if (hit) {
        setResultAndStopExecution({
          data: hit.result.data,
          extensions: { [RESPONSE_AGE_EXTENSION]: { hit: true, ageMs: Date.now() - hit.storedAt } },
        });
        return;
      }
      if (!cache.admit(key)) return;
      return {
        onExecuteDone({ result }) {
          if (!isAsyncIterable(result)) cache.store(key, result, [args.variableValues ?? null, literalsOf(args.document as DocumentNode)]);
        },
      };
    },
  };
}
