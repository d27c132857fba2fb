import { parseDirectoryFile } from './directory-file';

/**
 * The child process of parseDirectoryIsolated: reads one directory file sent by the parent,
 * answers with what was parsed, and exits. Its heap cap and time limit are the parent's.
 */
process.once('message', (m: { bytes: Buffer | Uint8Array; fileName: string }) => {
  const bytes = m.bytes instanceof Uint8Array ? m.bytes : new Uint8Array(m.bytes);
  parseDirectoryFile(bytes, m.fileName)
    .then((parsed) => process.send?.({ parsed }, () => process.exit(0)))
    .catch((err: Error) => process.send?.({ error: err.message }, () => process.exit(0)));
});
