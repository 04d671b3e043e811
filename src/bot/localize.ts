import { pickLocale, uiText, errorMessage, type ErrorCode, type ErrorParams, type Locale } from '../shared/index.js';

/** The user's language for an interaction (Korean for any `ko` locale, else English). */
export function localeOf(interaction: { locale: string }): Locale {
  return pickLocale(interaction.locale);
}

export function t(locale: Locale, key: string, params: ErrorParams = {}): string {
  return uiText(locale, key, params);
}

export function errorText(locale: Locale, code: ErrorCode, params: ErrorParams = {}): string {
  return errorMessage(locale, code, params);
}

/** `{ ko: … }` for builders' set*Localizations, from the same catalog key. */
export function koOnly(key: string): { ko: string } {
  return { ko: uiText('ko', key) };
}

/** English text + Korean localization for a builder's name or description. */
export function both(key: string): [string, { ko: string }] {
  return [uiText('en', key), koOnly(key)];
}
