import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ERROR_CODES } from '../shared/errors.js';
import { en } from '../shared/i18n/en.js';
import { errorMessage, uiText, type Locale } from '../shared/i18n/index.js';

/** Everything the page says, in one language: its UI keys (studio.*, stage.*) and every error message template. */
export function studioStrings(locale: Locale) {
  const ui = Object.fromEntries(Object.keys(en.ui).filter((k) => k.startsWith('studio.') || k.startsWith('stage.')).map((k) => [k, uiText(locale, k)]));
  const errors = Object.fromEntries(ERROR_CODES.map((code) => [code, errorMessage(locale, code)]));
  return { locale, ui, errors };
}
export type StudioStrings = ReturnType<typeof studioStrings>;

const escapeHtml = (text: string) =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

export interface PageContext {
  locale: Locale;
  /** Which engine serves the try-ons: shown in the footer. */
  mode: 'queue' | 'in-process';
  /** The server whose presets the page offers, if any. */
  guildId?: string | undefined;
}

/**
 * `<STUDIO_WEB_DIR>/index.html` with its `{{t:key}}` texts filled in the request's language (so the first paint is
 * already localised), and the strings for the script in a JSON data block (not executable: the CSP allows no inline script).
 */
export function createPageRenderer(webDir: string) {
  const template = readFileSync(join(webDir, 'index.html'), 'utf8');
  return (context: PageContext): string => {
    const strings = studioStrings(context.locale);
    const data = JSON.stringify({ ...strings, mode: context.mode, guildId: context.guildId ?? null }).replace(/</g, '\\u003c');
    return template
      .replace(/\{\{t:([\w.]+)\}\}/g, (_, key: string) => escapeHtml(uiText(context.locale, key, context.guildId ? { guildId: context.guildId } : {})))
      .replace('{{lang}}', context.locale)
      .replace('{{engine}}', escapeHtml(uiText(context.locale, context.mode === 'queue' ? 'studio.engine.queue' : 'studio.engine.inProcess')))
      .replace('{{data}}', data);
  };
}
