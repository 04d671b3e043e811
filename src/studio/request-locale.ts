import type { Locale } from '../shared/i18n/index.js';

export const LOCALE_COOKIE = 'hair_lang';

/**
 * The page's language: an explicit `?lang=` or the switch's cookie, else the Accept-Language entry with the highest
 * q among Korean and English (anything else reads as English).
 */
export function requestLocale(explicit: string | undefined, acceptLanguage: string | undefined): Locale {
  if (explicit === 'ko' || explicit === 'en') return explicit;
  let best: { locale: Locale; q: number } = { locale: 'en', q: 0 };
  for (const part of (acceptLanguage ?? '').split(',')) {
    const [tag = '', ...rest] = part.trim().toLowerCase().split(';');
    const q = Number(rest.find((p) => p.trim().startsWith('q='))?.trim().slice(2) ?? 1);
    const locale = tag.startsWith('ko') ? 'ko' : tag.startsWith('en') ? 'en' : undefined;
    if (locale && Number.isFinite(q) && q > best.q) best = { locale, q };
  }
  return best.locale;
}
