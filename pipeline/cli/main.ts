import { COMMANDS } from './commands';
import { UsageError, parseArgs, type Command } from '../base/command-line';
import { createCommandIo } from '../base/command-io';

/** Entry point of `pricedrop`. Returns the process exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  const io = createCommandIo();
  const [first, ...rest] = argv;
  if (first === undefined || first === '--help' || first === '-h' || first === 'help') {
    io.out(renderHelp(COMMANDS));
    return first === undefined ? 2 : 0;
  }
  if (first === '--version') {
    io.out(process.env.PRICEDROP_VERSION ?? '0.1.0');
    return 0;
  }
  const command = findCommand(first, rest);
  if (!command) {
    io.log(`pricedrop: unknown command "${[first, ...rest.filter((a) => !a.startsWith('-')).slice(0, 1)].join(' ')}". Run "pricedrop --help" for the list.`);
    return 2;
  }
  const words = command.name.split(' ').length;
  const commandArgs = argv.slice(words);
  try {
    const args = parseArgs(commandArgs, command.booleanFlags);
    if (args.switches.has('help')) {
      io.out(command.usage);
      return 0;
    }
    const code = await command.run(args, io);
    return code ?? 0;
  } catch (error) {
    if (error instanceof UsageError) {
      io.log(`pricedrop ${command.name}: ${error.message}\n\n${command.usage}`);
      return 2;
    }
    const message = error instanceof Error ? error.message : String(error);
    io.log(`pricedrop ${command.name}: ${message}`);
    if (process.env.PRICEDROP_DEBUG && error instanceof Error && error.stack) io.log(error.stack);
    return 1;
  }
}

/** Longest match first, so `cloud sync` wins over a hypothetical `cloud`. */
function findCommand(first: string, rest: readonly string[]): Command | undefined {
  const candidates = [...COMMANDS].sort((a, b) => b.name.split(' ').length - a.name.split(' ').length);
  return candidates.find((command) => {
    const words = command.name.split(' ');
    return words.every((word, i) => (i === 0 ? first : rest[i - 1]) === word);
  });
}

export function renderHelp(commands: readonly Command[]): string {
  const width = Math.max(...commands.map((c) => c.name.length)) + 2;
  const lines = commands.map((c) => `  ${c.name.padEnd(width)}${c.summary}`);
  return [
    'pricedrop: e-commerce price-drop analytics',
    '',
    'Usage: pricedrop <command> [options]',
    '',
    'Commands:',
    ...lines,
    '',
    'Every command accepts --workspace DIR (default: $PRICEDROP_HOME or the per-user data folder)',
    'and, where it reports, --json (one JSON object on the last line of stdout; progress on stderr).',
    'Run "pricedrop <command> --help" for its options.',
  ].join('\n');
}
