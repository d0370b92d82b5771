/**
 * The sample half of a dry run: each new or changed source is called with a sample (its list, then
 * its lookups with keys the list returned), and each new mapping is applied to real records (a few
 * records of the "from" entity, their keys translated, the "to" lookup called with them). What goes
 * wrong becomes a problem at the path of the part of the definition that caused it.
 */
import type { Catalog } from '../catalog/catalog';
import type { CatalogMapping } from '../catalog/catalog-entries';
import type { VirtualizationConfig } from '../config/definition';
import type { DefinitionProblem } from '../config/validate';
import { isSourceError, type SourceError } from '../connectors/errors';
import { CODES } from '../errors';
import type { CanonicalRecord } from '../connectors/record-mapper';
import type { EgressGuard } from '../connectors/egress-guard';
import { keyValues } from '../connectors/key-string';
import { SourceConnector, type RejectionListener } from '../connectors/source-connector';
import { normalizeKey } from '../connectors/transforms';
import type { MappingStore } from '../mapping/mapping-store';
import type { TimerClock } from '../time/clock';
import { secretVariables } from './registration-rules';

export type Stage = 'shape' | 'rules' | 'references' | 'environment' | 'egress' | 'schema' | 'sample';

export interface Problem extends DefinitionProblem {
  /** Which check found it. */
  stage: Stage;
}

/** One sample call and what it brought back. */
export interface SampleCall {
  source: string;
  entity: string;
  /** `list`, `lookup by id`, `mapping customerInvoices`. */
  endpoint: string;
  ok: boolean;
  records: number;
  rejected: number;
  durationMs: number;
  note?: string;
}

export interface SampleOutcome {
  calls: SampleCall[];
  problems: Problem[];
  warnings: Problem[];
}

/** Records sampled from a list, and "from" records a mapping sample starts with. */
const LIST_SAMPLE = 3;
const MAPPING_SAMPLE = 20;

type Rejection = Parameters<RejectionListener>[0];

function sourceProblem(error: unknown, path: string, definition: VirtualizationConfig['sources'][string]): Problem {
  if (!isSourceError(error)) return { stage: 'sample', path, message: error instanceof Error ? error.message : String(error) };
  const hint = hintFor(error, definition);
  return { stage: 'sample', path, message: `${error.message}${hint ? `: ${hint}` : ''}`, ...(error.status ? { found: `HTTP ${error.status}` } : {}) };
}

function hintFor(error: SourceError, definition: VirtualizationConfig['sources'][string]): string | undefined {
  if (error.status === 401 || error.status === 403) {
    const variables = secretVariables(definition);
    return variables.length > 0 ? `authentication failed: check auth and the value of ${variables.join(' and ')} in the gateway's environment` : 'the source wants credentials: declare auth';
  }
  if (error.code === CODES.SOURCE_UNAVAILABLE && error.status === undefined) return 'check baseUrl and that the source is up';
  if (error.code === CODES.SOURCE_BAD_RESPONSE) return 'check resultPath against a real answer';
  if (error.status === 400 || error.status === 404 || error.status === 405) return 'check the endpoint: method, path, query and body';
  return undefined;
}

/** Codes of one enum field that a warning names (each cut to a length), at most. */
const ENUM_CODES_NAMED = 10;
const ENUM_CODE_CHARS = 40;

/**
 * One warning per enum field whose transform does not map codes the sample holds, naming them:
 * they are the source's codes, not a record's data (the log never names them). The records that
 * hold them would be left out of every answer, and counted in its `extensions.rejected`.
 */
function enumWarnings(rejections: readonly Rejection[], at: (entity: string) => string): Problem[] {
  const byField = new Map<string, { entity: string; field: string; records: number; codes: Set<string> }>();
  for (const rejection of rejections) {
    if (rejection.enumCode === undefined) continue;
    const id = `${rejection.source}.${rejection.entity}.${rejection.field}`;
    let group = byField.get(id);
    if (!group) byField.set(id, (group = { entity: rejection.entity, field: rejection.field, records: 0, codes: new Set() }));
    group.records += 1;
    group.codes.add(rejection.enumCode);
  }
  return [...byField.values()].map(({ entity, field, records, codes }) => {
    const named = [...codes].slice(0, ENUM_CODES_NAMED).map((code) => JSON.stringify(code.length > ENUM_CODE_CHARS ? `${code.slice(0, ENUM_CODE_CHARS)}...` : code));
    const more = codes.size > ENUM_CODES_NAMED ? ` and ${codes.size - ENUM_CODES_NAMED} more` : '';
    const list = `${named.join(', ')}${more}`;
    return {
      stage: 'sample',
      path: `${at(entity)}.fields.${field}`,
      message: `the source sent ${codes.size === 1 ? 'a code' : `${codes.size} codes`} its enum transform does not map, in ${records} sampled record${records === 1 ? '' : 's'}: ${list}; records with ${codes.size === 1 ? 'it' : 'them'} are left out of answers (and counted in extensions.rejected): add ${codes.size === 1 ? 'it' : 'them'} to transform.enum`,
      found: list,
    };
  });
}

/** One problem per field whose values broke its mapping (enum codes it does not map aside: warnings), with the first record as the example. */
function rejectionProblems(rejections: readonly Rejection[], at: (entity: string) => string): Problem[] {
  const byField = new Map<string, Rejection[]>();
  for (const rejection of rejections) {
    if (rejection.enumCode !== undefined) continue;
    const id = `${rejection.source}.${rejection.entity}.${rejection.field}`;
    byField.set(id, [...(byField.get(id) ?? []), rejection]);
  }
  return [...byField.values()].map((group) => {
    const first = group[0]!;
    const path = first.field === '(record)' ? at(first.entity) : `${at(first.entity)}.fields.${first.field}`;
    return {
      stage: 'sample',
      path,
      message: `${group.length} sampled record${group.length === 1 ? '' : 's'} did not fit the mapping: record ${JSON.stringify(first.key ?? null)}, read from "${first.from}", ${first.reason}`,
    };
  });
}

async function timed<T>(work: () => Promise<T>): Promise<{ value?: T; error?: unknown; durationMs: number }> {
  const started = performance.now();
  try {
    return { value: await work(), durationMs: performance.now() - started };
  } catch (error) {
    return { error, durationMs: performance.now() - started };
  }
}

export interface SampleRequest {
  config: VirtualizationConfig;
  /** The catalog of `config`: who owns each entity, and the lookups each mapping uses. */
  catalog: Catalog;
  /** Sources to sample (new or changed ones). */
  sources: readonly string[];
  /** Mappings to apply to real records. */
  mappings: readonly string[];
  env: NodeJS.ProcessEnv;
  /** Crosswalk pairs held by the registry. */
  tables: MappingStore;
  /** Connectors of sources the dry run does not change (the live ones), to read "from" records with. */
  liveConnectors: ReadonlyMap<string, SourceConnector>;
  /** The egress policy the sampled sources (all registered ones) connect through. */
  egress: EgressGuard;
  /** How long every sample call of the dry run may take together (`registry.dryRun.timeoutMs`), on `clock`. */
  deadline: { ms: number; clock: TimerClock };
}

/**
 * Samples the sources and mappings of a request within its deadline. A source that hangs (or
 * answers slowly on every retry) ends the dry run at the deadline with a problem at the part being
 * sampled, instead of holding the caller (and whoever waits behind it) for as long as it likes.
 */
export async function sampleWithin(request: SampleRequest): Promise<SampleOutcome> {
  const at = { path: '' };
  let cancel = () => {};
  const expired = new Promise<'expired'>((resolve) => (cancel = request.deadline.clock.setTimer(request.deadline.ms, () => resolve('expired'))));
  const work = sampleDefinition(request, at);
  const settled = await Promise.race([work, expired]);
  cancel();
  if (settled !== 'expired') return settled;
  // The calls still running end on their own attempt timeouts; their outcome is no longer read.
  work.catch(() => undefined);
  return {
    calls: [],
    warnings: [],
    problems: [
      {
        stage: 'sample',
        path: at.path,
        message: `the sample calls did not finish within registry.dryRun.timeoutMs (${request.deadline.ms} ms): the source did not answer in time; check its baseUrl and limits.timeoutMs, or check without sample`,
      },
    ],
  };
}

async function sampleDefinition(request: SampleRequest, at: { path: string }): Promise<SampleOutcome> {
  const outcome: SampleOutcome = { calls: [], problems: [], warnings: [] };
  const rejections: Rejection[] = [];
  const sampled = new Map<string, SourceConnector>();
  for (const name of request.sources) {
    sampled.set(
      name,
      new SourceConnector(name, request.catalog.source(name).definition, { env: request.env, onReject: (event) => rejections.push(event), catalog: request.catalog, egress: request.egress }),
    );
  }
  const connectorOf = (source: string) => sampled.get(source) ?? request.liveConnectors.get(source);
  try {
    for (const name of request.sources) {
      at.path = `sources.${name}`;
      await sampleSource(request.config, name, sampled.get(name)!, rejections, outcome);
    }
    for (const name of request.mappings) {
      at.path = `mappings.${name}`;
      await sampleMapping(request, request.catalog.mapping(name), connectorOf, outcome);
    }
  } finally {
    await Promise.all([...sampled.values()].map((connector) => connector.close()));
  }
  const entityPath = (entity: string) => `sources.${request.catalog.ownerOf(entity)}.entities.${entity}`;
  outcome.problems.push(...rejectionProblems(rejections, entityPath));
  outcome.warnings.push(...enumWarnings(rejections, entityPath));
  return outcome;
}

async function sampleSource(config: VirtualizationConfig, name: string, connector: SourceConnector, rejections: Rejection[], outcome: SampleOutcome): Promise<void> {
  const definition = config.sources[name]!;
  for (const [entityName, entity] of Object.entries(definition.entities)) {
    const at = `sources.${name}.entities.${entityName}`;
    if (!entity.list) {
      outcome.warnings.push({ stage: 'sample', path: at, message: `${entityName} has no list, so no record is sampled directly; a mapping to it is sampled when one is declared` });
      continue;
    }
    const rejectedBefore = rejections.length;
    const listed = await timed(() => connector.list(entityName, { first: LIST_SAMPLE }));
    const records = listed.value?.records ?? [];
    outcome.calls.push({ source: name, entity: entityName, endpoint: 'list', ok: !listed.error, records: records.length, rejected: rejections.length - rejectedBefore, durationMs: listed.durationMs });
    if (listed.error) {
      outcome.problems.push(sourceProblem(listed.error, `${at}.list`, definition));
      continue;
    }
    if (records.length === 0) {
      outcome.warnings.push({ stage: 'sample', path: `${at}.list`, message: 'the list answered no records, so the mapping was not tried on real data' });
      continue;
    }
    for (const field of Object.keys(entity.fields)) {
      if (records.every((record) => record[field] === null)) {
        const hint = entity.properties ? '' : ' (if the source returns properties only when asked for by name, declare properties and send {properties})';
        outcome.warnings.push({ stage: 'sample', path: `${at}.fields.${field}`, message: `had no value in any of the ${records.length} sampled records: check its "from" path${hint}` });
      }
    }
    for (const [field, lookup] of Object.entries(entity.lookups)) {
      const values = [...new Set(records.flatMap((record) => keyValues(record[field])))];
      if (values.length === 0) continue;
      const rejectedBeforeLookup = rejections.length;
      const looked = await timed(() => connector.lookup(entityName, field, values));
      const found = looked.value ? [...looked.value.values()].filter((group) => Array.isArray(group) && group.length > 0).length : 0;
      const failed = looked.value ? [...looked.value.values()].find(isSourceError) : undefined;
      outcome.calls.push({ source: name, entity: entityName, endpoint: `lookup by ${field}`, ok: !looked.error && !failed, records: found, rejected: rejections.length - rejectedBeforeLookup, durationMs: looked.durationMs, note: `${found} of ${values.length} listed values found` });
      const refusal = looked.error ?? (failed?.code === CODES.SOURCE_PARTIAL_FAILURE ? undefined : failed);
      if (refusal) outcome.problems.push(sourceProblem(refusal, `${at}.lookups.${field}`, definition));
      else if (failed) outcome.warnings.push({ stage: 'sample', path: `${at}.lookups.${field}`, message: `the source reported an error for a sampled value: ${failed.message}` });
      else if (found < values.length) {
        outcome.problems.push({
          stage: 'sample',
          path: `${at}.lookups.${field}`,
          message: `found ${found} of the ${values.length} values the list returned: check its path, query or body, ${lookup.method === 'POST' ? 'valueType, ' : ''}resultPath and pattern`,
          expected: `${values.length} found`,
          found: `${found}`,
        });
      }
    }
  }
}

async function sampleMapping(
  request: SampleRequest,
  join: CatalogMapping,
  connectorOf: (source: string) => SourceConnector | undefined,
  outcome: SampleOutcome,
): Promise<void> {
  const { name, definition: mapping } = join;
  const toSource = join.to.source;
  const fromConnector = connectorOf(join.from.source);
  const toConnector = connectorOf(toSource);
  if (!fromConnector || !toConnector || !request.catalog.entity(join.from.entity).list) {
    outcome.warnings.push({ stage: 'sample', path: `mappings.${name}`, message: `not sampled: ${mapping.from.entity} has no list to take sample keys from` });
    return;
  }
  const started = performance.now();
  const call: SampleCall = { source: toSource, entity: mapping.to.entity, endpoint: `mapping ${name}`, ok: false, records: 0, rejected: 0, durationMs: 0 };
  outcome.calls.push(call);
  try {
    const page = await fromConnector.list(mapping.from.entity, { first: MAPPING_SAMPLE });
    const keys = [...new Set(page.records.flatMap((record: CanonicalRecord) => keyValues(record[mapping.from.field])))];
    let targets: string[];
    const normalize = join.normalize;
    if (mapping.via.kind === 'fieldKey') targets = keys.map((key) => normalizeKey(normalize, key));
    else if (mapping.via.kind === 'crosswalk') targets = [...(await request.tables.forward(name, keys)).values()].flat();
    else {
      const via = join.service!;
      const service = connectorOf(via.source);
      const links = service ? await service.lookup(via.entity, via.fromField, keys) : new Map();
      const linkFailure = [...links.values()].find(isSourceError);
      if (linkFailure && linkFailure.code !== CODES.SOURCE_PARTIAL_FAILURE) throw linkFailure;
      targets = [...links.values()].flatMap((records) => (Array.isArray(records) ? records.flatMap((record) => keyValues(record[via.toField])) : []));
    }
    targets = [...new Set(targets)];
    if (targets.length === 0) {
      call.ok = true;
      call.note = `${keys.length} ${mapping.from.entity} keys had no partner`;
      const advice = mapping.via.kind === 'crosswalk' ? `: import the crosswalk (virtualize mappings import <file> --mapping ${name})` : '';
      outcome.warnings.push({ stage: 'sample', path: `mappings.${name}`, message: `none of ${keys.length} sampled ${mapping.from.entity} records has a partner yet${advice}` });
      return;
    }
    const found = await toConnector.lookup(join.forward.loader.lookup.entity, join.forward.loader.lookup.field, targets, undefined, normalize);
    const groups = [...found.values()];
    const failure = groups.find(isSourceError);
    // A whole call that failed is a problem; an error the source reported for one key is not.
    if (failure && failure.code !== CODES.SOURCE_PARTIAL_FAILURE) throw failure;
    call.records = groups.reduce((sum, group) => sum + (Array.isArray(group) ? group.length : 0), 0);
    call.ok = true;
    call.note = `${keys.length} ${mapping.from.entity} -> ${targets.length} keys -> ${call.records} ${mapping.to.entity}`;
    if (failure) outcome.warnings.push({ stage: 'sample', path: `mappings.${name}`, message: `the source reported an error for a sampled key: ${failure.message}` });
  } catch (error) {
    outcome.problems.push(sourceProblem(error, `mappings.${name}`, request.catalog.source(toSource).definition));
  } finally {
    call.durationMs = performance.now() - started;
  }
}
