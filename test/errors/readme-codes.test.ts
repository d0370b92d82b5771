/**
 * The README's error table is the users' list of codes: it lists exactly the codes of
 * src/errors/codes.ts, each with the same HTTP status (and the same `*` for refusals that follow
 * the GraphQL over HTTP rules) and the same answer to whether a client may retry.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ERROR_CODES, type ErrorCodeEntry } from '../../src/errors';

interface Row {
  status: string;
  retry: string;
}

/** The rows of the first table under "## Errors", by code. */
function readmeErrorTable(): Map<string, Row> {
  const readme = readFileSync(join(__dirname, '../../README.md'), 'utf8');
  const section = readme.split(/^## /m).find((part) => part.startsWith('Errors\n'));
  if (!section) throw new Error('README.md has no "## Errors" section');
  const lines = section.split('\n');
  const header = lines.findIndex((line) => /^\| code \| HTTP \| retry \| meaning \|$/.test(line));
  if (header < 0) throw new Error('the Errors section has no table headed "| code | HTTP | retry | meaning |"');
  const rows = new Map<string, Row>();
  for (const line of lines.slice(header + 2)) {
    if (!line.startsWith('|')) break;
    const cells = line.split('|').slice(1, -1).map((cell) => cell.trim());
    const code = /^`([A-Z][A-Z_]+)`$/.exec(cells[0] ?? '')?.[1];
    if (!code) throw new Error(`a row of the error table names no code in backticks: ${line}`);
    if (rows.has(code)) throw new Error(`the error table lists ${code} twice`);
    rows.set(code, { status: cells[1] ?? '', retry: cells[2] ?? '' });
  }
  return rows;
}

function expected(entry: ErrorCodeEntry): Row {
  return { status: entry.status === null ? '—' : `${entry.status}${entry.spec ? '*' : ''}`, retry: entry.retryable ? 'yes' : 'no' };
}

describe("the README's error table", () => {
  const rows = readmeErrorTable();

  it('lists exactly the codes of the error table', () => {
    expect([...rows.keys()].sort()).toEqual(Object.keys(ERROR_CODES).sort());
  });

  it.each(Object.entries(ERROR_CODES))('gives %s its HTTP status and retryability', (code, entry) => {
    expect(rows.get(code)).toEqual(expected(entry));
  });
});
