// Run by every package's `build` after tsc: in the emitted JavaScript, points each import of a
// workspace package (`@tributary/core`, `@tributary/runner/definitions`) at its compiled entry
// (`@tributary/core/compiled`, `@tributary/runner/compiled/definitions`).
//
// Why: the packages' main exports are their TypeScript source, so that tsx, vitest and the type
// checker need no build. Compiled code importing them would load that source, which Node cannot run.
// A custom export condition would need a module hook or a flag on every start; rewritten specifiers
// cost nothing at run time. The specifiers are found with TypeScript's parser, so an import written
// inside a string (the connector scaffold's templates) is left alone. The build fails when the
// imported package has no `compiled` export for that entry. Last, `<outDir>/.compiled-imports` is
// touched: `apps/cli/bin/tributary.js` runs the build only when it is newer than every emitted file.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import ts from 'typescript';

const outDir = resolve(process.argv[2] ?? 'dist');
const exportsOf = new Map();

/** A package's manifest, found as Node finds the package: in the nearest node_modules that has it. */
function manifestPath(name) {
  for (let dir = process.cwd(); ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name, 'package.json');
    if (existsSync(candidate)) return candidate;
    if (dirname(dir) === dir) throw new Error(`${name} is not installed (run npm install).`);
  }
}

/** The compiled specifier of a workspace import, checked against the package's exports. */
function compiledSpecifier(specifier, file) {
  const match = /^(@tributary\/[^/]+)(\/.*)?$/.exec(specifier);
  if (!match) return undefined;
  const [, name, sub = ''] = match;
  // Already rewritten (a file tsc did not emit again, or a benchmark script compiled by an earlier run).
  if (sub === '/compiled' || sub.startsWith('/compiled/')) return undefined;
  if (!exportsOf.has(name)) {
    const manifest = JSON.parse(readFileSync(manifestPath(name), 'utf8'));
    exportsOf.set(name, manifest.exports ?? {});
  }
  const target = `./compiled${sub}`;
  if (!(target in exportsOf.get(name))) {
    throw new Error(
      `${file} imports ${specifier}, but ${name} has no "${target}" export: add it (pointing at the compiled file) to ${name}'s package.json.`,
    );
  }
  return `${name}/compiled${sub}`;
}

function rewrite(file) {
  const text = readFileSync(file, 'utf8');
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.JS);
  const edits = [];
  const visit = (node) => {
    const literal =
      (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) &&
      node.moduleSpecifier &&
      ts.isStringLiteral(node.moduleSpecifier)
        ? node.moduleSpecifier
        : ts.isCallExpression(node) &&
            node.expression.kind === ts.SyntaxKind.ImportKeyword &&
            node.arguments[0] &&
            ts.isStringLiteral(node.arguments[0])
          ? node.arguments[0]
          : undefined;
    const replacement = literal && compiledSpecifier(literal.text, file);
    if (replacement)
      edits.push({ start: literal.getStart(source) + 1, end: literal.getEnd() - 1, replacement });
    ts.forEachChild(node, visit);
  };
  visit(source);
  if (edits.length === 0) return;
  let out = text;
  for (const edit of edits.sort((a, b) => b.start - a.start))
    out = out.slice(0, edit.start) + edit.replacement + out.slice(edit.end);
  writeFileSync(file, out);
}

function walk(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) walk(path);
    else if (entry.name.endsWith('.js')) rewrite(path);
  }
}

walk(outDir);
writeFileSync(join(outDir, '.compiled-imports'), `${new Date().toISOString()}\n`);
