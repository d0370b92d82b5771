import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DockerfileParser, type Copy, type Healthcheck, type Instruction } from 'dockerfile-ast';
import { PROJECT_ROOT } from '../support/harness';
import { DEFAULT_PORT, read, variablesTheGatewayReads } from './deploy-files';

// Parsed with dockerfile-ast (the parser behind the Docker language server); never built here.
const dockerfile = DockerfileParser.parse(read('Dockerfile'));
const stages = dockerfile.getFROMs();
const runtimeStart = stages.at(-1)!.getRange().start.line;
/** The instructions of the final (runtime) stage. */
const runtime = dockerfile.getInstructions().filter((instruction) => instruction.getRange().start.line >= runtimeStart);
const only = (keyword: string): Instruction[] => runtime.filter((instruction) => instruction.getKeyword() === keyword);
const execForm = (instruction: Instruction, skip = ''): string[] => JSON.parse(instruction.getArgumentsContent()!.slice(skip.length).trim()) as string[];

describe('Dockerfile', () => {
  it('builds in stages: compiled in one, production dependencies alone in another, neither tsc nor devDependencies in the image', () => {
    expect(stages.map((stage) => stage.getBuildStage())).toEqual(['build', 'deps', 'runtime']);
    const runs = (stage: number) =>
      dockerfile
        .getInstructions()
        .filter((instruction) => instruction.getKeyword() === 'RUN' && instruction.getRange().start.line > stages[stage]!.getRange().start.line && (stages[stage + 1] === undefined || instruction.getRange().start.line < stages[stage + 1]!.getRange().start.line))
        .map((instruction) => instruction.getArgumentsContent());
    expect(runs(0)).toContain('npm run build');
    expect(runs(1).some((run) => /npm ci --omit=dev/.test(run ?? ''))).toBe(true);
    expect(runs(2).some((run) => /npm (ci|install)/.test(run ?? ''))).toBe(false);
    const copiedFrom = (only('COPY') as Copy[]).map((copy) => [copy.getFromFlag()?.getValue(), copy.getArguments()[0]!.getValue()]);
    expect(copiedFrom).toContainEqual(['deps', '/app/node_modules']);
    expect(copiedFrom).toContainEqual(['build', '/app/dist']);
  });

  it('copies only files that exist, and every file the configuration reads at run time', () => {
    const sources = (dockerfile.getInstructions().filter((instruction) => instruction.getKeyword() === 'COPY') as Copy[])
      .filter((copy) => copy.getFromFlag() === null)
      .flatMap((copy) => copy.getArguments().slice(0, -1).map((argument) => argument.getValue()));
    for (const source of sources) expect([source, existsSync(join(PROJECT_ROOT, source))]).toEqual([source, true]);
    // The crosswalk of the built-in configuration, and the directory of the canonical model.
    expect(sources).toEqual(expect.arrayContaining(['schema', 'sources/orders/crosswalk.csv', 'deploy/virtualization.config.js', 'bin']));
    const ignored = read('.dockerignore').split('\n').map((line) => line.trim()).filter((line) => line !== '' && !line.startsWith('#'));
    for (const source of [...sources, 'src', 'sources', 'package-lock.json']) expect(ignored.some((pattern) => source === pattern || source.startsWith(`${pattern}/`))).toBe(false);
  });

  it('runs as the unprivileged node user, never root', () => {
    const users = only('USER').map((user) => user.getArgumentsContent());
    expect(users.at(-1)).toBe('node');
    expect(users).not.toContain('root');
    expect(users).not.toContain('0');
  });

  it('checks health on /healthz at the port the gateway listens on', () => {
    const [healthcheck] = only('HEALTHCHECK');
    expect(healthcheck).toBeDefined();
    const content = healthcheck!.getArgumentsContent()!;
    const command = execForm(healthcheck!, content.slice(0, content.indexOf('CMD') + 'CMD'.length));
    expect(command[0]).toBe('node');
    expect(command.join(' ')).toContain(`/healthz'`);
    expect(command.join(' ')).toContain(`process.env.PORT || ${DEFAULT_PORT}`);
    expect(only('EXPOSE').map((expose) => expose.getArgumentsContent())).toEqual([String(DEFAULT_PORT)]);
    // Its own timeout, below the check's.
    expect((healthcheck as Healthcheck).getFlags().map((flag) => [flag.getName(), flag.getValue()])).toContainEqual(['timeout', '3s']);
    expect(command.join(' ')).toContain('AbortSignal.timeout(2000)');
  });

  it('starts node itself (exec form, no shell, no npm) so that SIGTERM reaches the CLI, which drains on it', () => {
    expect(execForm(only('ENTRYPOINT')[0]!)).toEqual(['node', 'bin/virtualize.js']);
    const command = execForm(only('CMD')[0]!);
    expect(command[0]).toBe('start');
    expect(command).not.toContain('--sandbox');
    expect(only('STOPSIGNAL').map((signal) => signal.getArgumentsContent())).toEqual(['SIGTERM']);
    // What the image relies on: the CLI handles SIGTERM by closing the runtime (the drain).
    expect(read('src/cli/main.ts')).toMatch(/process\.once\('SIGTERM'/);
  });

  it('sets only variables the gateway reads, and production mode', () => {
    const env = only('ENV').flatMap((instruction) => instruction.getArguments().map((argument) => argument.getValue().split('=')));
    const reads = variablesTheGatewayReads();
    for (const [name] of env) expect([name, reads.has(name!)]).toEqual([name, true]);
    expect(Object.fromEntries(env)).toMatchObject({ NODE_ENV: 'production', HOST: '0.0.0.0', PORT: String(DEFAULT_PORT) });
  });
});
