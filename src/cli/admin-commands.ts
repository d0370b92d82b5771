/**
 * The commands that talk to a running gateway's admin API: `sources validate|add|update|remove`,
 * `mappings import|remove`, `status`, `audit`, `operations push|list` and `keys create|list|revoke`. They need no configuration file, only the
 * gateway's URL and an admin token (flags or VIRTUALIZE_ADMIN_URL / VIRTUALIZE_ADMIN_TOKEN).
 */
import { existsSync, readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { parseArgs } from 'node:util';
import { formatProblem } from '../config/validate';
import { CODES } from '../errors';
import type { Problem, SampleCall } from '../registry/dry-run';
import type { ChangeResult, ImportReport, RegistryStatus, ValidationReport } from '../registry/registry';
import type { AuditEntry } from '../registry/registry-store';
import { adminGraphQL, AdminClientError, uploadCrosswalk, type AdminTarget } from './admin-client';
import { KEYS_USAGE, runKeysCommand } from './keys-commands';
import { OPERATIONS_USAGE, runOperationsCommand } from './operations-commands';
import { bytes, count, ProgressBar } from './progress-bar';

export const ADMIN_USAGE = `Registry commands (talk to a running gateway's admin API):
  sources validate <file>   dry run: check a definition file, compile the schema it would make,
                            call its sources once with a sample; changes nothing
  sources add <file>        register the sources and mappings of a definition file
  sources update <file>     replace registered sources (and register or replace its mappings)
  sources remove <file|name>
                            remove registered sources (--with-mappings: and their mappings)
  mappings import <file> --mapping <name>
                            stream a crosswalk (CSV with a header row, or NDJSON) into a
                            registered crosswalk mapping, with a progress bar
  mappings remove <name>    remove a registered mapping and its pairs
  status                    schema version, store, sources, mappings, imports in progress
  audit                     the latest changes: who, when, what
${OPERATIONS_USAGE}${KEYS_USAGE}
Registry options:
  --admin-url <url>   the gateway (default: VIRTUALIZE_ADMIN_URL or http://127.0.0.1:4000)
  --token <token>     an admin token (default: VIRTUALIZE_ADMIN_TOKEN)
  --no-sample         with validate, add, update: no sample calls to the sources
  --with-mappings     with sources remove
  --columns <from,to> with mappings import: the two CSV columns (default: the first two)
  --format <csv|ndjson>
                      with mappings import (default: from the file name)
  --partial           with mappings import: import the good rows even when some are rejected
  --limit <n>         with audit (default 20), operations list (default 100)
  --name, --scopes, --expires
                      with keys create
  --json              print the API's answer as JSON
`;

export const ADMIN_COMMANDS = new Set(['sources', 'mappings', 'status', 'audit', 'operations', 'keys']);

const REPORT_FIELDS = `ok problems { path message expected found stage } warnings { path message stage }
  samples { source entity endpoint ok records rejected durationMs note } fieldsAdded fieldsRemoved`;
const AUDIT_FIELDS = 'revision at actor action summary diff { op path before after }';
const CHANGE_FIELDS = `ok schemaVersion report { ${REPORT_FIELDS} } audit { ${AUDIT_FIELDS} }`;

type Out = (text: string) => void;

function readDocument(file: string): unknown {
  if (!existsSync(file)) throw new AdminClientError(`No such file: ${file}`);
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as unknown;
  } catch (error) {
    throw new AdminClientError(`${file} is not JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
}

function problemLines(title: string, problems: readonly Problem[]): string {
  if (problems.length === 0) return '';
  return `${title}:\n${problems.map((p) => `  - ${formatProblem(p)}${p.stage === 'shape' || p.stage === 'references' ? '' : `  [${p.stage}]`}`).join('\n')}\n`;
}

function sampleLines(samples: readonly SampleCall[]): string {
  if (samples.length === 0) return '';
  const rows = samples.map((s) => {
    const what = `${s.source} ${s.entity} ${s.endpoint}`.padEnd(44);
    const outcome = s.ok ? `${s.records} record${s.records === 1 ? '' : 's'}${s.rejected ? `, ${s.rejected} rejected` : ''}` : 'failed';
    return `  ${s.ok ? 'ok  ' : 'FAIL'} ${what} ${outcome.padEnd(22)} ${Math.round(s.durationMs)} ms${s.note ? `  (${s.note})` : ''}`;
  });
  return `Sample calls:\n${rows.join('\n')}\n`;
}

/** `Type: +added, -removed`, one line per type. */
function fieldLines(report: ValidationReport): string {
  const byType = new Map<string, string[]>();
  const note = (fields: readonly string[], sign: string) => {
    for (const field of fields) {
      const [type, name] = field.split('.') as [string, string];
      byType.set(type, [...(byType.get(type) ?? []), `${sign}${name}`]);
    }
  };
  note(report.fieldsAdded, '+');
  note(report.fieldsRemoved, '-');
  if (byType.size === 0) return '';
  return `Schema changes:\n${[...byType].map(([type, fields]) => `  ${type}: ${fields.join(' ')}`).join('\n')}\n`;
}

function formatReport(report: ValidationReport): string {
  return sampleLines(report.samples) + fieldLines(report) + problemLines('Warnings', report.warnings) + problemLines(`${report.problems.length} problem${report.problems.length === 1 ? '' : 's'}`, report.problems);
}

function formatStatus(status: RegistryStatus, target: AdminTarget): string {
  const lines = [`Gateway ${target.url}: schema version ${status.schemaVersion} (registry revision ${status.registryRevision}, ${status.store})`];
  if (status.lastReload && !status.lastReload.ok) lines.push(`  NOT APPLIED: revision ${status.lastReload.revision} (${status.lastReload.message ?? 'see the gateway log'}); the previous schema stays live`);
  const width = Math.max(...status.sources.map((s) => s.name.length), ...status.mappings.map((m) => m.name.length), 8) + 2;
  lines.push('Sources:');
  for (const s of status.sources) lines.push(`  ${s.name.padEnd(width)}${s.origin.padEnd(10)}${s.entities.join(', ').padEnd(28)}${s.state}${s.lastErrorCode ? ` (${s.lastErrorCode})` : ''}`);
  lines.push('Mappings:');
  for (const m of status.mappings) {
    lines.push(`  ${m.name.padEnd(width)}${m.origin.padEnd(10)}${m.kind.padEnd(11)}${`${m.from} -> ${m.to}`.padEnd(44)}${m.pairs === undefined || m.pairs === null ? '' : `${count(m.pairs)} pairs`}`);
  }
  for (const i of status.imports) lines.push(`Import in progress: ${i.mapping}, ${i.phase}, ${count(i.rows)} rows read, ${count(i.loaded)} loaded, ${count(i.rejected)} rejected`);
  return `${lines.join('\n')}\n`;
}

function formatAudit(entries: readonly AuditEntry[]): string {
  if (entries.length === 0) return 'No changes yet.\n';
  return `${entries
    .map((e) => {
      const diff = e.diff.slice(0, 12).map((d) => `      ${d.op === 'add' ? '+' : d.op === 'remove' ? '-' : '~'} ${d.path}${d.op === 'replace' ? `: ${JSON.stringify(d.before)} -> ${JSON.stringify(d.after)}` : ''}`);
      const more = e.diff.length > 12 ? [`      ... ${e.diff.length - 12} more`] : [];
      return [`${e.at}  ${e.revision === null ? '      ' : `rev ${String(e.revision).padEnd(3)}`} ${e.actor}: ${e.summary}`, ...diff, ...more].join('\n');
    })
    .join('\n')}\n`;
}

function formatImport(result: ImportReport): string {
  const rate = result.durationMs > 0 ? ` (${count(Math.round((result.rows / result.durationMs) * 1000))} rows/s)` : '';
  const lines = [
    result.applied
      ? `Imported into ${result.mapping}: ${count(result.rows)} rows, ${count(result.added)} new pairs${result.rejected ? `, ${count(result.rejected)} rows rejected` : ''}, in ${(result.durationMs / 1000).toFixed(1)} s${rate}.`
      : `Nothing imported into ${result.mapping}: ${count(result.rejected)} of ${count(result.rows)} rows were rejected. Fix them, or pass --partial to import the others.`,
  ];
  for (const row of result.rejectedRows) lines.push(`  line ${row.line}: ${row.reason}`);
  if (result.rejected > result.rejectedRows.length) lines.push(`  ... and ${count(result.rejected - result.rejectedRows.length)} more`);
  return `${lines.join('\n')}\n`;
}

/** Names of the sources a file registers, or the one name given. */
function sourceNames(argument: string): string[] {
  if (!existsSync(argument) || extname(argument) !== '.json') return [argument];
  const document = readDocument(argument) as { sources?: Record<string, unknown> };
  return Object.keys(document.sources ?? {});
}

/** Runs a registry command; returns the exit code (1 when something was refused or failed). */
export async function runAdminCommand(argv: string[], out: Out = (text) => process.stdout.write(text), err: Out = (text) => process.stderr.write(text)): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      'admin-url': { type: 'string' },
      token: { type: 'string' },
      'no-sample': { type: 'boolean', default: false },
      'with-mappings': { type: 'boolean', default: false },
      mapping: { type: 'string' },
      columns: { type: 'string' },
      format: { type: 'string' },
      partial: { type: 'boolean', default: false },
      limit: { type: 'string' },
      name: { type: 'string' },
      scopes: { type: 'string' },
      expires: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
  });
  const [group, action, argument] = positionals;
  const target: AdminTarget = {
    url: values['admin-url'] ?? process.env.VIRTUALIZE_ADMIN_URL ?? 'http://127.0.0.1:4000',
    token: values.token ?? process.env.VIRTUALIZE_ADMIN_TOKEN ?? '',
  };
  const sample = !values['no-sample'];
  const show = (text: string, data: unknown) => out(values.json ? `${JSON.stringify(data, null, 2)}\n` : text);
  const usage = (message: string) => {
    err(`${message}\n\n${ADMIN_USAGE}`);
    return 2;
  };
  try {
    if (!target.token) throw new AdminClientError('An admin token is needed: pass --token or set VIRTUALIZE_ADMIN_TOKEN.', CODES.UNAUTHENTICATED);
    if (group === 'status') {
      const { status } = await adminGraphQL<{ status: RegistryStatus }>(
        target,
        `{ status { schemaVersion registryRevision store lastReload { at ok revision message } sources { name origin entities state lastErrorCode } mappings { name origin kind from to pairs } imports { mapping phase rows rejected loaded } } }`,
      );
      show(formatStatus(status, target), status);
      return 0;
    }
    if (group === 'audit') {
      const { audit } = await adminGraphQL<{ audit: AuditEntry[] }>(target, `query($limit: Int) { audit(limit: $limit) { ${AUDIT_FIELDS} } }`, { limit: Number(values.limit ?? 20) });
      show(formatAudit(audit), audit);
      return 0;
    }
    if (group === 'keys') {
      const code = await runKeysCommand(target, action, positionals.slice(2), { ...(values.name ? { name: values.name } : {}), ...(values.scopes !== undefined ? { scopes: values.scopes } : {}), ...(values.expires ? { expires: values.expires } : {}) }, show);
      if (code !== undefined) return code;
    }
    if (group === 'operations') {
      const code = await runOperationsCommand(target, action, positionals.slice(2), { limit: values.limit }, show);
      if (code !== undefined) return code;
    }
    if (group === 'sources' && action === 'validate' && argument) {
      const { validateDefinition: report } = await adminGraphQL<{ validateDefinition: ValidationReport }>(
        target,
        `mutation($definition: JSON!, $sample: Boolean) { validateDefinition(definition: $definition, sample: $sample) { ${REPORT_FIELDS} } }`,
        { definition: readDocument(argument), sample },
      );
      show(`${formatReport(report)}${report.ok ? `OK: ${argument} can be registered (virtualize sources add ${argument}).\n` : 'Not valid: nothing was registered.\n'}`, report);
      return report.ok ? 0 : 1;
    }
    if (group === 'sources' && (action === 'add' || action === 'update') && argument) {
      const operation = action === 'add' ? 'registerSource' : 'updateSource';
      const answer = await adminGraphQL<Record<string, ChangeResult>>(
        target,
        `mutation($definition: JSON!, $sample: Boolean) { ${operation}(definition: $definition, sample: $sample) { ${CHANGE_FIELDS} } }`,
        { definition: readDocument(argument), sample },
      );
      const result = answer[operation]!;
      show(
        `${formatReport(result.report)}${result.ok ? `${action === 'add' ? 'Registered' : 'Updated'}: ${result.audit?.summary ?? argument}. Schema version ${result.schemaVersion} is live.\n` : `Refused: nothing changed (schema version ${result.schemaVersion} stays live).\n`}`,
        result,
      );
      return result.ok ? 0 : 1;
    }
    if (group === 'sources' && action === 'remove' && argument) {
      let last: ChangeResult | undefined;
      for (const name of sourceNames(argument)) {
        const { removeSource } = await adminGraphQL<{ removeSource: ChangeResult }>(
          target,
          `mutation($name: String!, $withMappings: Boolean) { removeSource(name: $name, withMappings: $withMappings) { ${CHANGE_FIELDS} } }`,
          { name, withMappings: values['with-mappings'] },
        );
        last = removeSource;
        show(`${formatReport(removeSource.report)}${removeSource.ok ? `Removed: ${removeSource.audit?.summary ?? name}. Schema version ${removeSource.schemaVersion} is live.\n` : `Refused: ${name} stays registered.\n`}`, removeSource);
        if (!removeSource.ok) return 1;
      }
      return last ? 0 : 1;
    }
    if (group === 'mappings' && action === 'remove' && argument) {
      const { removeMapping } = await adminGraphQL<{ removeMapping: ChangeResult }>(target, `mutation($name: String!) { removeMapping(name: $name) { ${CHANGE_FIELDS} } }`, { name: argument });
      show(`${removeMapping.ok ? `Removed: ${removeMapping.audit?.summary ?? argument}. Schema version ${removeMapping.schemaVersion} is live.\n` : formatReport(removeMapping.report)}`, removeMapping);
      return removeMapping.ok ? 0 : 1;
    }
    if (group === 'mappings' && action === 'import' && argument) {
      if (!values.mapping) return usage('mappings import needs --mapping <name>: the registered crosswalk mapping the pairs belong to.');
      if (!existsSync(argument)) throw new AdminClientError(`No such file: ${argument}`);
      const format = (values.format ?? (/\.(nd)?jsonl?$/i.test(argument) ? 'ndjson' : 'csv')) as 'csv' | 'ndjson';
      if (format !== 'csv' && format !== 'ndjson') return usage(`--format takes csv or ndjson, not ${String(values.format)}`);
      const bar = new ProgressBar();
      const started = performance.now();
      const result = await uploadCrosswalk(target, values.mapping, argument, {
        format,
        ...(values.columns ? { columns: values.columns } : {}),
        partial: values.partial,
        onProgress: ({ sent, total, server }) => {
          const seconds = (performance.now() - started) / 1000;
          const rows = server ? `, ${count(server.loaded || server.rows)} rows ${server.phase === 'loading' ? 'loaded' : 'read'}` : '';
          const fraction = server?.phase === 'loading' ? 0.5 + (0.5 * server.loaded) / Math.max(1, server.rows - server.rejected) : (0.5 * sent) / Math.max(1, total);
          bar.update(fraction, `${bytes(sent)} of ${bytes(total)} sent${rows}, ${seconds.toFixed(1)} s`);
        },
      });
      bar.update(1, `${count(result.rows)} rows`, true);
      bar.finish();
      show(formatImport(result), result);
      return result.applied ? 0 : 1;
    }
    return usage(`Unknown registry command: ${positionals.join(' ') || '(none)'}`);
  } catch (error) {
    if (error instanceof AdminClientError) {
      err(`${error.code ? `${error.code}: ` : ''}${error.message}\n`);
      return 1;
    }
    throw error;
  }
}
