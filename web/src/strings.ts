/** The page's texts: filled in by the server for the first paint, switched here without a reload. */
export type Locale = 'en' | 'ko';
export type Params = Record<string, string | number | boolean>;

interface Strings {
  locale: Locale;
  ui: Record<string, string>;
  errors: Record<string, string>;
}

export interface PageData extends Strings {
  mode: 'queue' | 'in-process';
  guildId: string | null;
}

const dataBlock = document.getElementById('studio-data');
export const pageData: PageData = JSON.parse(dataBlock?.textContent ?? '{}') as PageData;
let current: Strings = pageData;
const listeners = new Set<() => void>();

function fill(template: string, params: Params = {}): string {
  return template.replace(/\{(\w+)\}/g, (whole, key: string) => (params[key] === undefined ? whole : String(params[key])));
}

export const locale = (): Locale => current.locale;
export const t = (key: string, params?: Params): string => fill(current.ui[key] ?? key, params);
export const errorText = (code: string, params?: Params): string => fill(current.errors[code] ?? current.errors['INTERNAL'] ?? code, params);

/** Re-renders with the current language: every [data-i18n], [data-i18n-aria], [data-i18n-alt], then listeners. */
export function apply(root: ParentNode = document): void {
  document.documentElement.lang = current.locale;
  document.title = t('studio.title');
  for (const el of root.querySelectorAll<HTMLElement>('[data-i18n]')) el.textContent = t(el.dataset['i18n']!);
  for (const el of root.querySelectorAll<HTMLElement>('[data-i18n-aria]')) el.setAttribute('aria-label', t(el.dataset['i18nAria']!));
  for (const el of root.querySelectorAll<HTMLImageElement>('[data-i18n-alt]')) el.alt = t(el.dataset['i18nAlt']!);
  for (const button of root.querySelectorAll<HTMLButtonElement>('[data-lang]')) button.setAttribute('aria-pressed', String(button.dataset['lang'] === current.locale));
  for (const listener of listeners) listener();
}

export function onLocaleChange(listener: () => void): void {
  listeners.add(listener);
}

export async function switchLocale(next: Locale): Promise<void> {
  const response = await fetch(`/api/strings?lang=${next}`);
  if (!response.ok) return;
  current = (await response.json()) as Strings;
  document.cookie = `hair_lang=${next}; SameSite=Strict; Path=/; Max-Age=31536000`;
  apply();
}
