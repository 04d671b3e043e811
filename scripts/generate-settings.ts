import { writeFileSync } from 'node:fs';
import { envExample, settingsMarkdown } from '../src/shared/config-doc.js';

/** `npm run settings:generate`: docs/settings.md and .env.example from the config schemas. */
writeFileSync('docs/settings.md', settingsMarkdown());
writeFileSync('.env.example', envExample());
process.stdout.write('wrote docs/settings.md and .env.example\n');
