/**
 * Reads a V8 CPU profile (`node --cpu-prof`) and says where the time went: the heaviest functions
 * by self time, and self time summed by package (`@graphql-tools/delegate`, `graphql`, `undici`;
 * `virtualize` for this project's own code, `node` for Node's internals).
 *
 *   node dist/bench/profile-summary.js <file.cpuprofile> [--last-ms N] [--top N]
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** Where a script belongs: its npm package, this project, or Node itself. */
export function packageOf(url: string): string {
  if (url === '') return '(native)';
  if (url.startsWith('node:')) return 'node';
  const inModules = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (inModules) return inModules[1]!;
  const inProject = /\/dist\/((?:src|bench|sources)\/[^/]+)/.exec(url);
  return inProject ? `virtualize ${inProject[1]}` : url;
}

function shortUrl(url: string): string {
  const inModules = /node_modules\/(.*)$/.exec(url);
  if (inModules) return inModules[1]!;
  const inProject = /\/dist\/(.*)$/.exec(url);
  return inProject ? inProject[1]! : url;
}

/**
 * The summary as text. `lastMs` keeps only the samples of the profile's last `lastMs` milliseconds
 * (the measured requests, without start-up and warm-up).
 */
export function summarizeProfile(file: string, options: { lastMs?: number; top?: number } = {}): string {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const from = options.lastMs === undefined ? -Infinity : profile.endTime - options.lastMs * 1000;
  const selfUs = new Map<number, number>();
  let at = profile.startTime;
  for (let i = 0; i < profile.samples.length; i += 1) {
    at += profile.timeDeltas[i] ?? 0;
    if (at < from) continue;
    // A sample's time is the gap to the next one.
    const dt = profile.timeDeltas[i + 1] ?? 0;
    const id = profile.samples[i]!;
    selfUs.set(id, (selfUs.get(id) ?? 0) + dt);
  }
  const byFunction = new Map<string, number>();
  const byPackage = new Map<string, number>();
  let busyUs = 0;
  for (const [id, us] of selfUs) {
    const { functionName, url, lineNumber } = nodes.get(id)!.callFrame;
    if (functionName === '(idle)') continue;
    busyUs += us;
    const key = `${functionName || '(anonymous)'} ${shortUrl(url)}${url ? `:${lineNumber + 1}` : ''}`;
    byFunction.set(key, (byFunction.get(key) ?? 0) + us);
    const pkg = url === '' ? functionName : packageOf(url);
    byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + us);
  }
  const top = options.top ?? 40;
  const share = (us: number) => `${((100 * us) / busyUs).toFixed(1).padStart(5)}%  ${(us / 1000).toFixed(0).padStart(6)} ms`;
  const rank = (map: Map<string, number>, n: number) =>
    [...map.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([name, us]) => `  ${share(us)}  ${name}`)
      .join('\n');
  return [
    `busy (not idle) in the window: ${(busyUs / 1000).toFixed(0)} ms`,
    'self time by package:',
    rank(byPackage, 25),
    'self time by function:',
    rank(byFunction, top),
  ].join('\n');
}

if (require.main === module) {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { 'last-ms': { type: 'string' }, top: { type: 'string' } } });
  const file = positionals[0];
  if (!file) throw new Error('usage: profile-summary.js <file.cpuprofile> [--last-ms N] [--top N]');
  console.log(
    summarizeProfile(file, {
      ...(values['last-ms'] !== undefined ? { lastMs: Number(values['last-ms']) } : {}),
      ...(values.top !== undefined ? { top: Number(values.top) } : {}),
    }),
  );
}
