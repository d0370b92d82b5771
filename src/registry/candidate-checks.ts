import { isObjectType, type GraphQLSchema } from 'graphql';
import type { Catalog } from '../catalog/catalog';
import { CatalogDefinitionError } from '../catalog/catalog-errors';
import { compileCatalog } from '../catalog/compile-catalog';
import { EgressGuard } from '../connectors/egress-guard';
import { definitionDocument, type DefinitionDocument, type VirtualizationConfig } from '../config/definition';
import { checkReferences } from '../config/references';
import { checkShape } from '../config/validate';
import type { CanonicalSchema } from '../federation/canonical-schema';
import type { Gateway } from '../federation/gateway';
import { buildGatewaySchema } from '../federation/gateway-schema';
import type { MappingStore } from '../mapping/mapping-store';
import { sampleWithin, type Problem, type SampleCall } from './dry-run';
import type { HostResolver } from './egress-policy';
import type { LiveGateway } from './live-gateway';
import { reachability, registrationProblems } from './registration-rules';
import type { RegistrySnapshot } from './registry-store';
import type { TimerClock } from '../time/clock';
import type { ValidationReport } from './registry-reports';
import { withholdingValues } from './withheld-values';

/** Registered entries, as the store holds them (input form). */
export type Entries = Pick<RegistrySnapshot, 'sources' | 'mappings'>;

export interface Candidate {
  report: ValidationReport;
  /** The generation to put live; only when the report is ok and one was asked for. */
  gateway?: Gateway;
}

export interface CandidateOptions {
  /** Build the generation the entries make (a change), or only compile its schema (a dry run). */
  build: boolean;
  /** The sources and mappings to call with a sample. */
  sample?: { sources: string[]; mappings: string[] };
}

export interface CandidateChecksOptions {
  /** The configuration file's own sources and mappings, which registered entries sit on. */
  base: VirtualizationConfig;
  canonical: CanonicalSchema;
  /** The crosswalk pairs that mapping samples translate keys with. */
  tables: MappingStore;
  env: NodeJS.ProcessEnv;
  /** DNS for the egress check (tests replace it). */
  resolveHost?: HostResolver;
  /** The generation serving now: what a change is compared with, and whose connectors samples reuse. */
  live: LiveGateway;
  /** Builds the generation of a whole configuration. */
  build(config: VirtualizationConfig): Promise<Gateway>;
  /** What the deadline of sample calls is measured on. */
  clock: TimerClock;
}

function problem(stage: Problem['stage'], path: string, message: string): Problem {
  return { stage, path, message };
}

/**
 * What stops the candidate's schema from being built, as problems. The catalog's refusal lists each
 * definition it cannot compile; `checkReferences` reports all of them at their paths first, so one
 * reaching here means the two checks drifted apart, and it is reported, not thrown.
 */
function schemaProblems(error: unknown): Problem[] {
  if (error instanceof CatalogDefinitionError) return error.problems.map((message) => problem('schema', '', `the catalog cannot be compiled: ${message}`));
  return [problem('schema', '', `the unified schema cannot be built: ${error instanceof Error ? error.message : String(error)}`)];
}

function catalogOrProblems(config: VirtualizationConfig, problems: Problem[]): Catalog | undefined {
  try {
    return compileCatalog(config);
  } catch (error) {
    problems.push(...schemaProblems(error));
    return undefined;
  }
}

function fieldsOf(schema: GraphQLSchema): Set<string> {
  const fields = new Set<string>();
  for (const type of Object.values(schema.getTypeMap())) {
    if (type.name.startsWith('__') || !isObjectType(type)) continue;
    for (const field of Object.keys(type.getFields())) fields.add(`${type.name}.${field}`);
  }
  return fields;
}

function report(problems: Problem[], warnings: Problem[] = [], samples: SampleCall[] = [], before?: GraphQLSchema, after?: GraphQLSchema): ValidationReport {
  const was = before ? fieldsOf(before) : new Set<string>();
  const will = after ? fieldsOf(after) : was;
  return {
    ok: problems.length === 0,
    problems,
    warnings,
    samples,
    fieldsAdded: [...will].filter((field) => !was.has(field)).sort(),
    fieldsRemoved: [...was].filter((field) => !will.has(field)).sort(),
  };
}

/**
 * The checks of a set of registered entries, taken as a whole on top of the configuration: shape,
 * rules, references, environment, egress, the compiled schema, and on request one sample call per
 * source. A change and a dry run run the same checks; a change also gets the generation built.
 */
export class CandidateChecks {
  /** The egress policy the sample calls of registered sources connect through, as their generation's connectors do. */
  private readonly egress: EgressGuard;

  constructor(private readonly options: CandidateChecksOptions) {
    this.egress = new EgressGuard(options.base.registry.egress, options.resolveHost);
  }

  async check(entries: Entries, options: CandidateOptions): Promise<Candidate> {
    const candidate = await this.checkEntries(entries, options);
    return { ...candidate, report: withholdingValues(entries.sources, this.options.env)(candidate.report) };
  }

  private async checkEntries(entries: Entries, options: CandidateOptions): Promise<Candidate> {
    const { base } = this.options;
    const shape = checkShape(definitionDocument, entries);
    if (!shape.ok) return { report: report(shape.problems.map((p) => ({ ...p, stage: 'shape' }))) };
    const document: DefinitionDocument = shape.value;
    const problems: Problem[] = registrationProblems(document, base).map((p) => ({ ...p, stage: 'rules' }));
    // An entry named like one of the configuration file's is refused above; the file's own stays in force.
    const config: VirtualizationConfig = {
      ...base,
      sources: { ...document.sources, ...base.sources },
      mappings: { ...document.mappings, ...base.mappings },
    };
    problems.push(...checkReferences(config).map((p): Problem => ({ ...p, stage: 'references' })));
    if (problems.length > 0) return { report: report(problems) };

    const { reachable, problems: unreachable } = await reachability(document, { base, env: this.options.env, ...(this.options.resolveHost ? { resolveHost: this.options.resolveHost } : {}) });
    problems.push(...unreachable);
    let schema: GraphQLSchema | undefined;
    let gateway: Gateway | undefined;
    // The candidate generation's catalog: the one its gateway compiled, or compiled here for a dry run.
    let catalog: Catalog | undefined;
    try {
      if (options.build && problems.length === 0) {
        gateway = await this.options.build(config);
        ({ schema, catalog } = gateway);
      } else {
        catalog = compileCatalog(config);
        schema = buildGatewaySchema(catalog, this.options.canonical, { strict: config.canonical.strict });
      }
    } catch (error) {
      problems.push(...schemaProblems(error));
    }

    let samples: SampleCall[] = [];
    const warnings: Problem[] = [];
    if (options.sample) {
      // The references held, so the catalog compiles even when the built generation did not; should
      // it refuse anyway, that is reported like the schema's problems, and nothing is sampled.
      const candidate = catalog ?? catalogOrProblems(config, problems);
      if (!candidate) return { report: report(problems) };
      const pinned = this.options.live.pin();
      try {
        const sampleSources = options.sample.sources.filter((name) => reachable.has(name));
        const outcome = await sampleWithin({
          config,
          catalog: candidate,
          sources: sampleSources,
          mappings: options.sample.mappings.filter((name) => {
            const mapping = candidate.mapping(name);
            return [mapping.from.source, mapping.to.source].every((source) => source in base.sources || reachable.has(source));
          }),
          env: this.options.env,
          tables: this.options.tables,
          liveConnectors: pinned.gateway.connectors,
          egress: this.egress,
          deadline: { ms: base.registry.dryRun.timeoutMs, clock: this.options.clock },
        });
        samples = outcome.calls;
        problems.push(...outcome.problems);
        warnings.push(...outcome.warnings);
      } finally {
        pinned.release();
      }
    }
    const result = report(problems, warnings, samples, this.options.live.schema, schema);
    if (!result.ok && gateway) {
      await gateway.close();
      gateway = undefined;
    }
    return { report: result, ...(gateway ? { gateway } : {}) };
  }
}
