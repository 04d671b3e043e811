import { z } from 'zod';
import { CONFIG_SECTIONS, type ConfigSection } from './config.js';

/** One setting as the docs show it: read from the zod schema, so a new setting is documented by adding it there. */
export interface SettingDoc {
  key: string;
  section: ConfigSection;
  /** The default as it would be written in .env; undefined for required or optional-without-default settings. */
  default: string | undefined;
  required: boolean;
  /** What values are accepted, from the schema (enum, range, format). */
  accepts: string;
  description: string | undefined;
}

/** Who reads a section: what docs/settings.md says next to each setting. */
const SECTION_TITLES: Record<string, string> = {
  pipeline: 'Pipeline (worker and CLI)',
  redis: 'Redis',
  worker: 'Worker',
  discord: 'Discord (bot and worker)',
  bot: 'Bot',
  studio: 'Studio (docs/studio.md)',
};

interface JsonSchemaField {
  type?: string;
  enum?: unknown[];
  minimum?: number;
  maximum?: number;
  format?: string;
  pattern?: string;
  minLength?: number;
  description?: string;
  const?: unknown;
  anyOf?: JsonSchemaField[];
}

function envValue(value: unknown): string {
  if (Array.isArray(value)) return value.join(',');
  return String(value);
}

function accepts(field: JsonSchemaField): string {
  if (field.anyOf) return field.anyOf.map(accepts).join(', or ');
  if (field.const !== undefined) return `\`${String(field.const)}\``;
  if (field.enum) return field.enum.map((v) => `\`${String(v)}\``).join(', ');
  if (field.type === 'integer' || field.type === 'number') {
    const kind = field.type === 'integer' ? 'integer' : 'number';
    const max = field.maximum !== undefined && field.maximum < Number.MAX_SAFE_INTEGER ? field.maximum : undefined;
    if (field.minimum !== undefined && max !== undefined) return `${kind} ${field.minimum}–${max}`;
    if (field.minimum !== undefined) return `${kind} ≥ ${field.minimum}`;
    return kind;
  }
  if (field.format === 'uri') return 'URL';
  if (field.pattern) return `text matching \`${field.pattern}\``;
  if (field.minLength !== undefined && field.minLength > 1) return `text, ${field.minLength}+ characters`;
  return 'text';
}

/** Every setting of every section, in schema order. */
export function settingDocs(): SettingDoc[] {
  return Object.entries(CONFIG_SECTIONS).flatMap(([section, schema]) => {
    const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as { properties: Record<string, JsonSchemaField>; required?: string[] };
    return Object.entries(schema.shape as Record<string, z.ZodType>).map(([key, field]): SettingDoc => {
      const parsed = field.safeParse(undefined);
      const fallback = parsed.success && parsed.data !== undefined ? envValue(parsed.data) : undefined;
      return {
        key,
        section: section as ConfigSection,
        default: fallback,
        required: !parsed.success,
        accepts: accepts(json.properties[key] ?? {}),
        description: field.description ?? json.properties[key]?.description,
      };
    });
  });
}

const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** docs/settings.md. */
export function settingsMarkdown(docs: SettingDoc[] = settingDocs()): string {
  const lines = [
    '# Settings',
    '',
    '<!-- Generated from the zod schemas in src/shared/config.ts by `npm run settings:generate`; do not edit by hand. -->',
    '',
    'Every setting is an environment variable (or a line of `.env`, see `.env.example`). All are validated at start',
    'and every problem is named at once (CONFIG_INVALID); an empty value counts as unset.',
  ];
  for (const section of Object.keys(CONFIG_SECTIONS)) {
    lines.push('', `## ${SECTION_TITLES[section] ?? section}`, '', '| Setting | Default | Accepts | What it does |', '| --- | --- | --- | --- |');
    for (const doc of docs.filter((d) => d.section === section)) {
      const fallback = doc.required ? '**required**' : doc.default === undefined ? '(unset)' : `\`${doc.default}\``;
      lines.push(`| \`${doc.key}\` | ${cell(fallback)} | ${cell(doc.accepts)} | ${cell(doc.description ?? '')} |`);
    }
  }
  return `${lines.join('\n')}\n`;
}

/** .env.example: every setting, required ones empty, the rest commented out with their defaults. */
export function envExample(docs: SettingDoc[] = settingDocs()): string {
  const lines = [
    '# Copy to .env and fill in. Generated from src/shared/config.ts (`npm run settings:generate`); docs/settings.md',
    '# explains each setting. Every setting is validated at start and all problems are listed at once.',
  ];
  for (const section of Object.keys(CONFIG_SECTIONS)) {
    lines.push('', `# --- ${SECTION_TITLES[section] ?? section} ---`);
    for (const doc of docs.filter((d) => d.section === section)) {
      lines.push(`# ${(doc.description ?? '').replace(/`/g, '')}`);
      lines.push(doc.required ? `${doc.key}=` : `# ${doc.key}=${doc.default ?? ''}`);
    }
  }
  return `${lines.join('\n')}\n`;
}
