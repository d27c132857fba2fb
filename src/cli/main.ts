import { Command, CommanderError } from 'commander';
import { SettingsError } from '../config/settings';
import { CliError, EXIT_INVALID, EXIT_OK, EXIT_UNAVAILABLE, EXIT_USAGE } from './exit-codes';
import { ErrorKind, kindOf, messageOf } from '../util/errors';
import { serve } from './serve-command';
import { SETTINGS_HELP, EXIT_HELP, version } from './cli-helpers';
import { cliContext, Io } from './context';
import { storeCommands } from './store-commands';
import { directoryCommands } from './directory-commands';
import { recognitionCommands } from './recognition-commands';
import { callsCommands } from './calls-commands';
import { databaseCommands } from './database-commands';

export type { Io };

function program(io: Io, env: NodeJS.ProcessEnv, result: { code: number }): Command {
  const ctx = cliContext(io, env, result);
  const { settings, done } = ctx;
  const root = new Command('attendant')
    .description("offline speech auto-attendant: answers a PBX's calls, hears a name, transfers the call")
    .version(version(), '-V, --version', 'print the version')
    .helpOption('-h, --help', 'show help for a command')
    .addHelpText('after', `\n${SETTINGS_HELP.serve}\n\n${EXIT_HELP}`)
    .exitOverride()
    .showHelpAfterError('(attendant <command> --help shows its options)')
    .configureOutput({ writeOut: (t) => io.out(t.trimEnd()), writeErr: (t) => io.err(t.trimEnd()) })
    .enablePositionalOptions();

  root
    .command('serve')
    .description('answer calls: SIP, RTP, recognition, gRPC and HTTP, until SIGTERM')
    .addHelpText('after', `\n${SETTINGS_HELP.serve}`)
    .action(async () => done(await serve(settings())));

  storeCommands(root, ctx);
  directoryCommands(root, ctx);
  recognitionCommands(root, ctx);
  callsCommands(root, ctx);
  databaseCommands(root, ctx);

  return root;
}

/** The exit status of each kind of error (util/errors.ts); anything else is "unavailable" (3). */
const EXIT_STATUS: Record<ErrorKind | 'internal', number> = {
  invalid: EXIT_INVALID,
  'not-found': EXIT_INVALID,
  conflict: EXIT_INVALID,
  unauthorized: EXIT_INVALID,
  forbidden: EXIT_INVALID,
  unavailable: EXIT_UNAVAILABLE,
  busy: EXIT_UNAVAILABLE,
  internal: EXIT_UNAVAILABLE,
};

/** Maps any error to its message and exit status. */
export function exitCodeFor(err: unknown): { message: string; code: number } {
  if (err instanceof CliError) return { message: err.message, code: err.exitCode };
  // A setting the operator gave is a usage mistake, as a wrong option is.
  if (err instanceof SettingsError) return { message: err.message, code: EXIT_USAGE };
  return { message: messageOf(err), code: EXIT_STATUS[kindOf(err)] };
}

/** Runs one `attendant` command; errors are printed on `io.err` and become the exit status. */
export async function run(argv: string[], io: Io, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const result = { code: EXIT_OK };
  try {
    await program(io, env, result).parseAsync(argv, { from: 'user' });
    return result.code;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version end here with 0; a usage mistake (already printed by commander) with 2.
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version') return EXIT_OK;
      return EXIT_USAGE;
    }
    const { message, code } = exitCodeFor(err);
    io.err(`attendant: ${message}`);
    return code;
  }
}

export async function main(argv: string[]): Promise<void> {
  // `attendant ... | head` closes the pipe early: that is not an error.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  });
  const io: Io = { out: (t) => process.stdout.write(`${t}\n`), err: (t) => process.stderr.write(`${t}\n`) };
  process.exitCode = await run(argv, io);
}
