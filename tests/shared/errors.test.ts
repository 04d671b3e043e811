import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES, HairError, isErrorCode, toHairError, type ErrorCode } from '../../src/shared/errors.js';
import { en } from '../../src/shared/i18n/en.js';
import { errorMessage, pickLocale, type Message } from '../../src/shared/i18n/index.js';
import { ko } from '../../src/shared/i18n/ko.js';

const ROOTS = ['src', 'scripts', 'tools'];
/** Placeholders the edges fill themselves (replyError, deliverError, the preset-failed notice). */
const EDGE_PARAMS = ['jobId'];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === 'node_modules' ? [] : sourceFiles(path);
    return path.endsWith('.ts') && !path.endsWith('.d.ts') ? [path] : [];
  });
}

/** Every `new HairError('CODE', { … })` in the code base: the code and the names of the params it passes. */
function throwSites(): Array<{ code: ErrorCode; params: string[]; where: string }> {
  const sites: Array<{ code: ErrorCode; params: string[]; where: string }> = [];
  for (const file of ROOTS.flatMap(sourceFiles)) {
    const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
    const visit = (node: ts.Node) => {
      if (ts.isNewExpression(node) && node.expression.getText(source) === 'HairError') {
        const [code, params] = node.arguments ?? [];
        if (code && ts.isStringLiteral(code) && isErrorCode(code.text)) {
          const names = params && ts.isObjectLiteralExpression(params)
            ? params.properties.flatMap((p) => (p.name ? [p.name.getText(source)] : []))
            : [];
          const { line } = source.getLineAndCharacterOfPosition(node.getStart(source));
          sites.push({ code: code.text, params: names, where: `${file}:${line + 1}` });
        }
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  return sites;
}

const placeholders = (message: Message) => {
  const forms = typeof message === 'string' ? [message] : Object.entries(message).filter(([key]) => key !== 'count').map(([, text]) => text as string);
  const names = new Set(forms.flatMap((text) => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!)));
  if (typeof message !== 'string') names.add(message.count);
  return [...names].sort();
};

describe('errors and messages', () => {
  const sites = throwSites();

  it('finds the throw sites it checks', () => {
    expect(sites.length).toBeGreaterThan(80);
    expect(sites.some((s) => s.code === 'PRESET_NOT_FOUND')).toBe(true);
  });

  it('renders every code in both languages with the params its throw sites pass, leaving no {placeholder}', () => {
    const unfilled: string[] = [];
    for (const code of ERROR_CODES) {
      const paramSets = sites.filter((s) => s.code === code).map((s) => ({ names: s.params, where: s.where }));
      // Codes only built at run time (HairError.of, toHairError) carry context params alone.
      if (paramSets.length === 0) paramSets.push({ names: [], where: '(no literal throw site)' });
      for (const { names, where } of paramSets) {
        const params: Record<string, string | number> = Object.fromEntries([...names, ...EDGE_PARAMS].map((name) => [name, `<${name}>`]));
        for (const locale of ['en', 'ko'] as const) {
          const message = (locale === 'en' ? en : ko).errors[code] as Message;
          // A plural message: every form, by giving its count 1 and 2.
          const counts = typeof message === 'string' ? [undefined] : [1, 2];
          for (const count of counts) {
            const text = errorMessage(locale, code, typeof message === 'string' || count === undefined ? params : { ...params, [message.count]: count });
            if (/\{\w+\}/.test(text)) unfilled.push(`${code} (${locale}) from ${where}: ${text}`);
          }
        }
      }
    }
    expect(unfilled).toEqual([]);
  });

  it('uses the same placeholders in Korean as in English, and has Korean text for every code', () => {
    for (const code of ERROR_CODES) {
      expect(placeholders(ko.errors[code]), code).toEqual(placeholders(en.errors[code]));
      expect(ko.errors[code]).toMatch(/[\uac00-\ud7a3]/);
    }
    expect(errorMessage('ko', 'MULTIPLE_FACES', { count: 2 })).toContain('2개');
  });

  it('shows preset kinds in the member\'s language', () => {
    expect(errorMessage('ko', 'PRESET_KIND_MISMATCH', { name: '단발', kind: 'color' })).toBe('"단발"은(는) 색상 프리셋이 아니에요.');
    expect(errorMessage('en', 'PRESET_KIND_MISMATCH', { name: 'Bob', kind: 'color' })).toBe('"Bob" is not a color preset.');
  });

  it('maps Discord locales to ko or en', () => {
    expect(pickLocale('ko')).toBe('ko');
    expect(pickLocale('en-US')).toBe('en');
    expect(pickLocale('fr')).toBe('en');
    expect(pickLocale(undefined)).toBe('en');
  });

  it('wraps unknown failures as INTERNAL and keeps HairErrors', () => {
    const original = new HairError('NO_FACE');
    expect(toHairError(original)).toBe(original);
    const wrapped = toHairError(new TypeError('boom'));
    expect(wrapped.code).toBe('INTERNAL');
    expect(wrapped.cause).toBeInstanceOf(TypeError);
    expect(new HairError('DOWNLOAD_TIMEOUT').retryable).toBe(true);
    expect(new HairError('NO_FACE').userFacing).toBe(true);
    const withRole = new HairError('PRESET_NOT_FOUND', { name: 'bob' }, { detail: 'x' }).withParams({ role: 'shape' });
    expect(withRole).toMatchObject({ code: 'PRESET_NOT_FOUND', params: { name: 'bob', role: 'shape' }, message: 'PRESET_NOT_FOUND: x' });
  });

  it('types params per code from the message templates (a wrong name does not compile)', () => {
    // @ts-expect-error PRESET_NOT_FOUND's message says {name}, not {preset}
    const wrongName = new HairError('PRESET_NOT_FOUND', { preset: 'bob' });
    // @ts-expect-error QUOTA_EXCEEDED needs both {limit} and {retryAt}
    const missing = new HairError('QUOTA_EXCEEDED', { limit: 3 });
    // @ts-expect-error a name that is neither a placeholder nor context
    const unknown = new HairError('NO_FACE', { colour: 'red' });
    expect([wrongName, missing, unknown].every((e) => e instanceof HairError)).toBe(true);
  });
});
