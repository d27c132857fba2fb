/** Exit status of the `attendant` command (DESIGN.md, "CLI"). */
export const EXIT_OK = 0;
export const EXIT_INVALID = 1;
export const EXIT_USAGE = 2;
export const EXIT_UNAVAILABLE = 3;

export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

export const usageError = (message: string): CliError => new CliError(message, EXIT_USAGE);
export const invalidInput = (message: string): CliError => new CliError(message, EXIT_INVALID);
export const unavailable = (message: string): CliError => new CliError(message, EXIT_UNAVAILABLE);
