/**
 * The `nst` command line. A thin layer over the library: parse, call, report. User errors print
 * one line and exit with code 2; unexpected errors print one line (stack with NST_DEBUG=1), exit 1.
 */
import { Command, CommanderError } from 'commander';
import { NstError } from '../errors';
import { stylizeCommand } from './stylize-command';
import { exploreCommand } from './explore-command';
import { fastCommand } from './fast-command';
import { trainCommand } from './train-command';
import { stylesCommand } from './styles-command';
import { compareCommand } from './compare-command';
import { modelsCommand } from './models-command';
import { serveCommand } from './serve-command';
import { workerCommand } from './worker-command';
import { videoCommand } from './video-command';

export function buildProgram(): Command {
  const program = new Command('nst')
    .description('neural style transfer: paint photos in the style of a painting')
    .version(require('../../../package.json').version)
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  program.addCommand(stylizeCommand().exitOverride());
  program.addCommand(exploreCommand().exitOverride());
  program.addCommand(fastCommand().exitOverride());
  program.addCommand(videoCommand().exitOverride());
  program.addCommand(trainCommand().exitOverride());
  program.addCommand(stylesCommand().exitOverride());
  program.addCommand(compareCommand().exitOverride());
  program.addCommand(modelsCommand().exitOverride());
  program.addCommand(serveCommand().exitOverride());
  program.addCommand(workerCommand().exitOverride());
  prefixParseErrors(program);
  return program;
}

/**
 * Commander's own parse errors (unknown option, missing value, a value outside the choices) print
 * `error: …`; ours print `nst: error: …`. One form for every command, however deep: added
 * commands do not inherit output settings, so each gets them.
 */
function prefixParseErrors(command: Command): void {
  command.configureOutput({ outputError: (message, write) => write(message.startsWith('error:') ? `nst: ${message}` : message) });
  for (const sub of command.commands) prefixParseErrors(sub);
}

export async function main(argv: string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    return reportError(err);
  }
}

function reportError(err: unknown): number {
  if (err instanceof CommanderError) {
    // Help and version "errors" are normal exits; commander already printed the message.
    return err.exitCode === 0 ? 0 : 2;
  }
  if (err instanceof NstError) {
    process.stderr.write(`nst: error: ${err.message}\n`);
    return err.exitCode;
  }
  const e = err as Error;
  process.stderr.write(`nst: internal error: ${String(e?.message ?? e).split('\n')[0]}\n`);
  if (process.env.NST_DEBUG) process.stderr.write(`${e?.stack}\n`);
  return 1;
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => process.exit(code));
}
