import { execFile } from 'node:child_process';
import { createDecoderFactory, EngineSpec } from './engine';
import { Grammar } from './grammar';

/**
 * Checks an engine and its models before the service says it is ready: loads them and
 * decodes a second of faint noise, in a child process, so that a model that crashes the
 * engine (a Vosk folder of empty files segfaults libvosk) stops `attendant serve` with one
 * clear line instead of killing it on the first caller.
 */

export class ModelCheckError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ModelCheckError';
  }
}

/** What the probe decodes: one second of faint noise, 16 kHz. */
function testSound(): Int16Array {
  const pcm = new Int16Array(16000);
  let seed = 7;
  for (let i = 0; i < pcm.length; i += 1) {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    pcm[i] = (seed % 200) - 100;
  }
  return pcm;
}

const PROBE_GRAMMAR: Grammar = { key: 'probe', jsgf: '', dict: '', phrases: ['oui', 'non'] };

/** Runs in the child: loads every model of `spec` and decodes the test sound with each. */
function probeInProcess(spec: EngineSpec): string[] {
  const factory = createDecoderFactory(spec);
  const checked: string[] = [];
  try {
    const sound = testSound();
    if (spec.engine === 'vosk') {
      const decoder = factory.create(PROBE_GRAMMAR).open();
      decoder.write(sound);
      decoder.end();
      checked.push(`vosk ${spec.voskModel}`);
    } else {
      const ids = spec.models.length > 0 ? spec.models.map((m) => m.id) : [undefined];
      for (const id of ids) {
        const decoder = factory.openLoop!(undefined, id);
        decoder.write(sound);
        decoder.end();
        checked.push(`pocketsphinx ${id ?? 'en-us'}`);
      }
    }
  } finally {
    factory.close();
  }
  return checked;
}

/** Checks `spec` in a child process; resolves with what was checked, or rejects with one line. */
export function probeEngine(spec: EngineSpec, timeoutMs = 120_000): Promise<string[]> {
  const what =
    spec.engine === 'vosk'
      ? `the Vosk model in ${spec.voskModel}`
      : `the PocketSphinx models (${spec.models.map((m) => m.id).join(', ') || 'en-us'})`;
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [__filename],
      { env: { ...process.env, ATTENDANT_PROBE_SPEC: JSON.stringify(spec) }, timeout: timeoutMs, maxBuffer: 1 << 20 },
      (err, stdout, stderr) => {
        if (err === null) {
          resolve(JSON.parse(stdout) as string[]);
          return;
        }
        const e = err as NodeJS.ErrnoException & { signal?: string; killed?: boolean };
        const said = stderr
          .trim()
          .split('\n')
          .filter((l) => l.startsWith('probe: '))
          .map((l) => l.slice(7))
          .pop();
        if (e.killed === true && e.signal === 'SIGTERM')
          reject(new ModelCheckError(`${what} did not load and decode a test sound within ${timeoutMs / 1000} s`));
        else if (e.signal)
          reject(
            new ModelCheckError(
              `${what} crashed the recognition engine (${e.signal}) while decoding a test sound: the model is broken or incomplete; reinstall it (attendant models install)`,
            ),
          );
        else reject(new ModelCheckError(`${what} cannot be used: ${said ?? `the check exited with ${String(e.code)}`}`));
      },
    );
  });
}

if (require.main === module) {
  try {
    const spec = JSON.parse(process.env.ATTENDANT_PROBE_SPEC ?? '') as EngineSpec;
    process.stdout.write(JSON.stringify(probeInProcess(spec)));
  } catch (err) {
    process.stderr.write(`probe: ${(err as Error).message.split('\n')[0]}\n`);
    process.exitCode = 1;
  }
}
