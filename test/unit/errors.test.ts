import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { toStatus } from '../../src/api/grpc';
import { exitCodeFor } from '../../src/cli/main';
import { EXIT_INVALID, EXIT_UNAVAILABLE, EXIT_USAGE } from '../../src/cli/exit-codes';
import { SettingsError } from '../../src/config/settings';
import {
  EmptyDirectoryError,
  InvalidStoreIdError,
  StoreExistsError,
  StoreNotFoundError,
  VersionConflictError,
  VersionNotFoundError,
} from '../../src/directory/directory-store';
import { DirectoryFileError } from '../../src/directory/problem';
import { DatabaseUnavailableError } from '../../src/storage/sql';
import { TargetNotEmptyError } from '../../src/storage/copy';
import { AttendantError, kindOf } from '../../src/util/errors';

/** Each error, its kind, and what the CLI and gRPC make of it. */
const CASES: [Error, string, number, grpc.status][] = [
  [new StoreNotFoundError('brest-1'), 'not-found', EXIT_INVALID, grpc.status.NOT_FOUND],
  [new InvalidStoreIdError('a b'), 'invalid', EXIT_INVALID, grpc.status.INVALID_ARGUMENT],
  [new StoreExistsError('brest-1'), 'conflict', EXIT_INVALID, grpc.status.FAILED_PRECONDITION],
  [new VersionNotFoundError('brest-1', 9, [1, 2]), 'not-found', EXIT_INVALID, grpc.status.NOT_FOUND],
  [new VersionConflictError('brest-1', 2, 3), 'conflict', EXIT_INVALID, grpc.status.FAILED_PRECONDITION],
  [new EmptyDirectoryError('brest-1'), 'invalid', EXIT_INVALID, grpc.status.INVALID_ARGUMENT],
  [new DirectoryFileError('a.csv', [{ message: 'bad' }]), 'invalid', EXIT_INVALID, grpc.status.INVALID_ARGUMENT],
  [new DatabaseUnavailableError('ECONNREFUSED'), 'unavailable', EXIT_UNAVAILABLE, grpc.status.UNAVAILABLE],
  [new TargetNotEmptyError('full'), 'conflict', EXIT_INVALID, grpc.status.FAILED_PRECONDITION],
  [new Error('a defect'), 'internal', EXIT_UNAVAILABLE, grpc.status.INTERNAL],
];

describe('typed errors', () => {
  it.each(CASES)('%s is of its kind, and maps to its exit status and gRPC status', (err, kind, exit, status) => {
    expect(kindOf(err)).toBe(kind);
    expect(exitCodeFor(err)).toEqual({ message: err.message, code: exit });
    expect(toStatus(err)).toMatchObject({ code: status, details: err.message });
  });

  it('keeps the class name as the error name (logs show it)', () => {
    expect(new VersionConflictError('s', 1, 2).name).toBe('VersionConflictError');
    expect(new StoreExistsError('s')).toBeInstanceOf(AttendantError);
  });

  it('maps a setting the operator gave to a usage error, whatever its kind', () => {
    expect(exitCodeFor(new SettingsError('ATTENDANT_SIP_PORT is not a port')).code).toBe(EXIT_USAGE);
  });

  it('a reworded message changes nothing: the kind decides', () => {
    const reworded = new StoreExistsError('s');
    reworded.message = 'something else entirely';
    expect(exitCodeFor(reworded).code).toBe(EXIT_INVALID);
    expect(toStatus(reworded).code).toBe(grpc.status.FAILED_PRECONDITION);
  });

  it('no source file classifies an error by its message text', () => {
    const src = resolve(__dirname, '..', '..', '..', 'src');
    const files = (dir: string): string[] =>
      readdirSync(dir, { withFileTypes: true }).flatMap((d) =>
        d.isDirectory() ? files(join(dir, d.name)) : d.name.endsWith('.ts') ? [join(dir, d.name)] : [],
      );
    const offenders = files(src).filter((f) =>
      /\.test\(\s*\(?\s*err\b[^)]*\.message|\.test\(\s*message\s*\)/.test(readFileSync(f, 'utf8')),
    );
    expect(offenders).toEqual([]);
  });
});
