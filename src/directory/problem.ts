import { AttendantError } from '../util/errors';

/** What is wrong with a directory file, where: shared by every format's reader and every adapter that reports it. */

export interface DirectoryProblem {
  /** "line 11" in a CSV file, "entries[3]" in a JSON file; absent for the file as a whole. */
  where?: string;
  field?: string;
  message: string;
}

export class DirectoryFileError extends AttendantError {
  constructor(
    readonly fileName: string,
    readonly problems: DirectoryProblem[],
  ) {
    super('invalid', problems.map((p) => formatProblem(fileName, p)).join('\n'));
  }
}

export function formatProblem(fileName: string, problem: DirectoryProblem): string {
  const where = problem.where === undefined ? '' : ` ${problem.where}`;
  const field = problem.field === undefined ? '' : `, field ${problem.field}`;
  return `${fileName}${where}${field}: ${problem.message}`;
}

/** At most this many problems are reported, the last line saying how many more there were. */
export const MAX_PROBLEMS = 100;

/** The first `max` problems, and one that counts the rest. */
export function capProblems(problems: DirectoryProblem[], max = MAX_PROBLEMS): DirectoryProblem[] {
  if (problems.length <= max) return problems;
  return [...problems.slice(0, max), { message: `… and ${problems.length - max} more problems` }];
}
