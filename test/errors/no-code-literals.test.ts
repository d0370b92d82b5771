/**
 * Codes are written once, in src/errors/codes.ts; everywhere else names them through `CODES`, so
 * a code cannot drift between the table and the place that raises it. Every string literal of
 * every file under src/ (outside src/errors) is read from its syntax tree, comments aside.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';
import { ERROR_CODES } from '../../src/errors';

const SRC = join(__dirname, '../../src');
const ERRORS = join(SRC, 'errors');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return path === ERRORS ? [] : sourceFiles(path);
    return /\.[cm]?tsx?$/.test(entry.name) ? [path] : [];
  });
}

/** Every string literal in the file whose text is a code of the table, with its line. */
function codeLiterals(path: string, text: string, codes: ReadonlySet<string>): string[] {
  const file = ts.createSourceFile(path, text, ts.ScriptTarget.Latest, true);
  const found: string[] = [];
  const visit = (node: ts.Node): void => {
    if ((ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) && codes.has(node.text)) {
      found.push(`${relative(join(SRC, '..'), path)}:${file.getLineAndCharacterOfPosition(node.getStart()).line + 1} '${node.text}'`);
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  return found;
}

describe('error codes outside src/errors', () => {
  const codes = new Set(Object.keys(ERROR_CODES));

  it('are never written as string literals', () => {
    const files = sourceFiles(SRC);
    expect(files.length).toBeGreaterThan(50);
    expect(files.flatMap((path) => codeLiterals(path, readFileSync(path, 'utf8'), codes))).toEqual([]);
  });

  it('would be found in a literal of any kind, and not in a comment', () => {
    const text = [
      `// THROTTLED in a comment, and \`THROTTLED\` in a doc line`,
      `const a = 'THROTTLED';`,
      `const b = { code: "SOURCE_TIMEOUT" as const };`,
      'type C = `FORBIDDEN`;',
      `const d = 'THROTTLED_SOON';`,
    ].join('\n');
    expect(codeLiterals(join(SRC, 'example.ts'), text, codes)).toEqual(["src/example.ts:2 'THROTTLED'", "src/example.ts:3 'SOURCE_TIMEOUT'", "src/example.ts:4 'FORBIDDEN'"]);
  });
});
