/**
 * The options' TSDoc is part of the public surface (editors show it): every
 * public option type and every option in src/config/options.ts has a doc
 * comment; every optional option says its `@default`, and where DEFAULTS
 * holds that default the two agree; required ones say "Required".
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { DEFAULTS } from '../../../src/config/options.js';

const path = fileURLToPath(new URL('../../../src/config/options.ts', import.meta.url));
const file = ts.createSourceFile(path, readFileSync(path, 'utf8'), ts.ScriptTarget.ES2022, true);

/** The option types `src/index.ts` exports from options.ts. */
const PUBLIC = ['BackendKind', 'RingAlgorithm', 'RingCompat', 'KeyHash', 'NodeSpec', 'NodeObject', 'TlsOption', 'AuthOptions', 'RingOptions', 'TimeoutOptions', 'HealthOptions', 'BreakerOptions', 'MemoryOptions', 'MetricsOptions', 'ReplicaReads', 'ReplicationOptions', 'WarmupOptions', 'ShardcacheOptions'];
/** Which group of ShardcacheOptions each options interface is. */
const GROUP_OF: Record<string, string | undefined> = { RingOptions: 'ring', TimeoutOptions: 'timeouts', HealthOptions: 'health', BreakerOptions: 'breaker', MemoryOptions: 'memory', MetricsOptions: 'metrics', ReplicationOptions: 'replication', WarmupOptions: 'warmup', ShardcacheOptions: undefined };

const declarations = new Map<string, ts.InterfaceDeclaration | ts.TypeAliasDeclaration>();
file.forEachChild((node) => {
  if ((ts.isInterfaceDeclaration(node) || ts.isTypeAliasDeclaration(node)) && node.modifiers?.some((m) => m.kind === ts.SyntaxKind.ExportKeyword)) declarations.set(node.name.text, node);
});

const hasDoc = (node: ts.Node) => ts.getJSDocCommentsAndTags(node).length > 0;
const docText = (node: ts.Node) => ts.getJSDocCommentsAndTags(node).map((doc) => doc.getText()).join('\n');
function defaultTag(node: ts.Node): string | undefined {
  const tag = ts.getJSDocTags(node).find((t) => t.tagName.text === 'default');
  return tag === undefined ? undefined : (ts.getTextOfJSDocComment(tag.comment) ?? '').trim();
}
/** `'ketama'`, `10`, `[0.1, 1]`, `undefined (reason)`: the value before any parenthesised remark, or NaN when it is prose. */
function parseDefault(text: string): unknown {
  const head = text.replace(/\s*\(.*$/s, '').trim();
  if (head === 'undefined') return undefined;
  try {
    return JSON.parse(head.replace(/'/g, '"'));
  } catch {
    return Number.NaN;
  }
}

describe('options TSDoc', () => {
  it.each(PUBLIC)('%s is exported from options.ts with a doc comment', (name) => {
    const declaration = declarations.get(name);
    expect(declaration, name).toBeDefined();
    expect(hasDoc(declaration!), `${name} has no TSDoc`).toBe(true);
  });

  const members = PUBLIC.flatMap((name) => {
    const declaration = declarations.get(name);
    if (declaration === undefined || !ts.isInterfaceDeclaration(declaration)) return [];
    return declaration.members.filter(ts.isPropertySignature).map((member) => ({ owner: name, member, option: member.name.getText() }));
  });

  it('covers every option', () => {
    expect(members.length).toBeGreaterThan(40);
  });

  it.each(members.map((entry) => [`${entry.owner}.${entry.option}`, entry] as const))('%s: documented, with @default (equal to DEFAULTS where it holds one) or "Required"', (_, { owner, member, option }) => {
    expect(hasDoc(member), 'no TSDoc').toBe(true);
    const fallback = defaultTag(member);
    if (member.questionToken === undefined || /\bRequired\b/.test(docText(member))) {
      expect(/\bRequired\b/.test(docText(member)), 'a required option must say "Required"').toBe(true);
      expect(fallback, 'a required option has no @default').toBeUndefined();
      return;
    }
    expect(fallback, 'missing @default').toBeDefined();
    if (!(owner in GROUP_OF)) return; // NodeObject: no DEFAULTS entry
    const group = GROUP_OF[owner];
    const defaults = (group === undefined ? DEFAULTS : (DEFAULTS as unknown as Record<string, unknown>)[group]) as Record<string, unknown>;
    const value = defaults[option];
    // Groups (ring, timeouts...) document their fields one by one; codec has no DEFAULTS entry.
    if (!(option in defaults) || (typeof value === 'object' && value !== null && !Array.isArray(value))) return;
    expect(parseDefault(fallback!), `@default ${fallback} against DEFAULTS`).toEqual(value);
  });
});
