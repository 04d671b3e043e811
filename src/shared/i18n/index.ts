import type { ErrorCode, ErrorParams } from '../errors.js';
import { en } from './en.js';
import { ko } from './ko.js';
import type { Message } from './message.js';

export type { Message, PluralMessage } from './message.js';
export type Locale = 'en' | 'ko';
const catalogs = { en, ko } as const;
const pluralRules = { en: new Intl.PluralRules('en'), ko: new Intl.PluralRules('ko') } satisfies Record<Locale, Intl.PluralRules>;

/** Discord locales ('ko', 'en-US', 'en-GB', …) → our two; anything not Korean is English. */
export function pickLocale(discordLocale: string | null | undefined): Locale {
  return discordLocale?.toLowerCase().startsWith('ko') ? 'ko' : 'en';
}

export function format(template: string, params: ErrorParams = {}): string {
  return template.replace(/\{(\w+)\}/g, (whole, key: string) => {
    const value = params[key];
    return value === undefined ? whole : String(value);
  });
}

/** The template of a message: a plural message picks its form by the CLDR category of its count (Intl.PluralRules). */
function templateOf(locale: Locale, message: Message, params: ErrorParams): string {
  if (typeof message === 'string') return message;
  const category = pluralRules[locale].select(Number(params[message.count]));
  return message[category] ?? message.other;
}

const PRESET_KINDS = new Set(['shape', 'color', 'both']);

/** A code's message; a preset `kind` param reads in the member's language. */
export function errorMessage(locale: Locale, code: ErrorCode, params: ErrorParams = {}): string {
  const kind = params['kind'];
  const shown = typeof kind === 'string' && PRESET_KINDS.has(kind) ? { ...params, kind: uiText(locale, `kind.${kind}`) } : params;
  return format(templateOf(locale, catalogs[locale].errors[code], shown), shown);
}

/** UI strings: Korean falls back to English for a key ko.ts does not have yet. */
export function uiText(locale: Locale, key: string, params: ErrorParams = {}): string {
  const message = catalogs[locale].ui[key] ?? catalogs.en.ui[key] ?? key;
  return format(templateOf(catalogs[locale].ui[key] ? locale : 'en', message, params), params);
}
