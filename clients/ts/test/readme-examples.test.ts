/**
 * The README's TypeScript examples compile as written: every ```ts block of
 * clients/ts/README.md is type-checked as a module of its own, with this
 * package's tsconfig.json (strict, NodeNext) and 'tickwire-client' resolved to
 * src/index.ts (the source of the published types, so no build is needed).
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { expect, test } from 'vitest';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

/** The bodies of the fenced blocks tagged `ts`, in order. */
function tsBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/^```ts\n([\s\S]*?)^```$/gm)].map((m) => m[1]!);
}

function compilerOptions(): ts.CompilerOptions {
  const parsed = ts.getParsedCommandLineOfConfigFile(join(ROOT, 'tsconfig.json'), undefined, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (d) => {
      throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    },
  });
  if (parsed === undefined) throw new Error('tsconfig.json did not parse');
  return {
    ...parsed.options,
    noEmit: true,
    paths: { 'tickwire-client': [join(ROOT, 'src', 'index.ts')] },
  };
}

test('every ts block of README.md type-checks under strict TypeScript', () => {
  const blocks = tsBlocks(readFileSync(join(ROOT, 'README.md'), 'utf8'));
  // At least the publish and subscribe examples: no match at all would pass vacuously.
  expect(blocks.length).toBeGreaterThanOrEqual(2);

  // Virtual files next to this test: under this package's "type": "module",
  // so each block is an ES module (top-level await allowed, as in the README).
  const files = new Map(
    blocks.map((b, i) => [join(ROOT, 'test', `readme-example-${i + 1}.ts`), b]),
  );
  const options = compilerOptions();
  const host = ts.createCompilerHost(options);
  const { fileExists, readFile, getSourceFile } = host;
  host.fileExists = (f) => files.has(f) || fileExists.call(host, f);
  host.readFile = (f) => files.get(f) ?? readFile.call(host, f);
  host.getSourceFile = (f, lang, ...rest) => {
    const text = files.get(f);
    return text === undefined
      ? getSourceFile.call(host, f, lang, ...rest)
      : ts.createSourceFile(f, text, lang);
  };
  const program = ts.createProgram([...files.keys()], options, host);
  const report = ts.formatDiagnostics(ts.getPreEmitDiagnostics(program), {
    getCanonicalFileName: (f) => f,
    getCurrentDirectory: () => ROOT,
    getNewLine: () => '\n',
  });
  expect(report).toBe('');
});
