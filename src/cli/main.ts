import { Command, CommanderError } from 'commander';
import { errorMessage, toHairError } from '../shared/index.js';

/**
 * `hairstyler` — pipeline tools without Redis or Discord. Each subcommand lives in its own module and registers
 * itself on the program; this file only assembles them and turns errors into `error[CODE]: message` + exit code.
 */
type Register = (program: Command) => void;

const subcommands: Array<() => Promise<{ register: Register }>> = [
  () => import('./models.js'),
  () => import('./align.js'),
  () => import('./transfer.js'),
  () => import('./presets.js'),
];

export function exitCodeFor(error: unknown): number {
  return toHairError(error).userFacing ? 2 : 1;
}

export async function main(argv: string[]): Promise<number> {
  const program = new Command('hairstyler')
    .description('AI hairstyle try-on: face front-end, HairFastGAN, model registry')
    .exitOverride()
    .showHelpAfterError();
  for (const load of subcommands) (await load()).register(program);
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2;
    const hairError = toHairError(error);
    const message = hairError.code === 'INTERNAL' ? hairError.message : errorMessage('en', hairError.code, hairError.params);
    const detail = hairError.message !== hairError.code && hairError.code !== 'INTERNAL' ? `\n  ${hairError.message}` : '';
    process.stderr.write(`error[${hairError.code}]: ${message}${detail}\n`);
    return exitCodeFor(hairError);
  }
}
