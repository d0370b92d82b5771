import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { PROJECT_ROOT } from './support/harness';

/**
 * The rooms of src/, lowest first, as docs/architecture.md draws them. A room may import rooms
 * below it and never one above: connectors know nothing of federation, the engine nothing of the
 * server, and only the composition root (runtime) and the command (cli) see everything.
 */
const ROOMS = ['time', 'errors', 'config', 'catalog', 'connectors', 'telemetry', 'mapping', 'cache', 'federation', 'guard', 'auth', 'registry', 'server', 'runtime', 'cli'] as const;

/** About the length past which a file is doing more than one job. */
const MAX_LINES = 450;

const SRC = join(PROJECT_ROOT, 'src');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

const files = sourceFiles(SRC).map((path) => ({ path: relative(PROJECT_ROOT, path), text: readFileSync(path, 'utf8') }));

/** The room a file of src/ lives in; `index.ts` at the top is the package entry, above every room. */
function roomOf(path: string): string {
  const parts = path.split('/');
  return parts.length === 2 ? 'index' : parts[1]!;
}

/** Every module a file imports or requires by a relative path, resolved to a path from the project root. */
function relativeImports(path: string, text: string): string[] {
  const specifiers = [...text.matchAll(/(?:from\s+|require\(\s*|import\(\s*)'(\.{1,2}\/[^']+)'/g)].map((match) => match[1]!);
  const dir = path.split('/').slice(0, -1);
  return specifiers.map((specifier) => {
    const parts = [...dir];
    for (const segment of specifier.split('/')) {
      if (segment === '..') parts.pop();
      else if (segment !== '.') parts.push(segment);
    }
    return parts.join('/');
  });
}

test('every file of src/ lives in a known room', () => {
  const unknown = files.map((file) => roomOf(file.path)).filter((room) => room !== 'index' && !(ROOMS as readonly string[]).includes(room));
  expect([...new Set(unknown)]).toEqual([]);
});

test('no room reaches upward', () => {
  const upward: string[] = [];
  for (const file of files) {
    const from = roomOf(file.path);
    if (from === 'index') continue;
    for (const target of relativeImports(file.path, file.text)) {
      if (!target.startsWith('src/')) continue;
      const to = roomOf(target);
      if (ROOMS.indexOf(to as (typeof ROOMS)[number]) > ROOMS.indexOf(from as (typeof ROOMS)[number])) upward.push(`${file.path} imports ${target} (${from} -> ${to})`);
    }
  }
  expect(upward).toEqual([]);
});

test('only the sandbox mode of the command loads the sandboxes', () => {
  const loaders = files.filter((file) => relativeImports(file.path, file.text).some((target) => target.startsWith('sources/') || target === 'virtualization.config')).map((file) => file.path);
  expect(loaders).toEqual(['src/cli/sandbox-mode.ts']);
});

test(`no file of src/ is longer than about ${MAX_LINES} lines`, () => {
  const long = files.filter((file) => file.text.split('\n').length > MAX_LINES + 20).map((file) => `${file.path}: ${file.text.split('\n').length} lines`);
  expect(long).toEqual([]);
});
