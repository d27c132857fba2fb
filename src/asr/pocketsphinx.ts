import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Grammar } from './grammar';
import { Decoder, DecoderFactory, RecognitionResult, SAMPLE_RATE, normalizeNbest } from './recognizer';

/**
 * CMU PocketSphinx (Debian's libpocketsphinx3, 5prealpha API) driven in-process through koffi.
 * One decoder per grammar, searching the store's JSGF grammar; n-best from its lattice.
 */

export const POCKETSPHINX_MODEL_DIR = '/usr/share/pocketsphinx/model/en-us';

export interface PocketsphinxOptions {
  modelDir: string;
  /** Scale from path score (log base 1.0001) to the natural log used for posteriors. */
  scoreScale: number;
  nbest: number;
}

export const DEFAULT_POCKETSPHINX_OPTIONS: PocketsphinxOptions = {
  modelDir: process.env.ATTENDANT_POCKETSPHINX_MODEL ?? POCKETSPHINX_MODEL_DIR,
  scoreScale: 1e-4 * 20,
  nbest: 12,
};

type Pointer = unknown;

interface Api {
  ps_args: () => Pointer;
  cmd_ln_parse_r: (inout: Pointer, defn: Pointer, argc: number, argv: string[], strict: number) => Pointer;
  cmd_ln_free_r: (cfg: Pointer) => number;
  ps_init: (cfg: Pointer) => Pointer;
  ps_free: (ps: Pointer) => number;
  ps_set_jsgf_string: (ps: Pointer, name: string, jsgf: string) => number;
  ps_set_search: (ps: Pointer, name: string) => number;
  ps_start_utt: (ps: Pointer) => number;
  ps_process_raw: (ps: Pointer, data: Int16Array, n: number, noSearch: number, fullUtt: number) => number;
  ps_end_utt: (ps: Pointer) => number;
  ps_get_hyp: (ps: Pointer, score: number[]) => string | null;
  ps_nbest: (ps: Pointer) => Pointer;
  ps_nbest_next: (nb: Pointer) => Pointer;
  ps_nbest_hyp: (nb: Pointer, score: number[]) => string | null;
  ps_nbest_free: (nb: Pointer) => void;
}

let api: Api | undefined;

function loadApi(): Api {
  if (api !== undefined) return api;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const koffi = require('koffi') as typeof import('koffi');
  let ps: ReturnType<typeof koffi.load>;
  let sb: ReturnType<typeof koffi.load>;
  try {
    ps = koffi.load('libpocketsphinx.so.3');
    sb = koffi.load('libsphinxbase.so.3');
  } catch (err) {
    throw new Error(
      `libpocketsphinx could not be loaded (${(err as Error).message}); install it: apt-get install libpocketsphinx3 pocketsphinx-en-us`,
    );
  }
  api = {
    ps_args: ps.func('void *ps_args()'),
    cmd_ln_parse_r: sb.func('void *cmd_ln_parse_r(void *inout, void *defn, int argc, const char **argv, int strict)'),
    cmd_ln_free_r: sb.func('int cmd_ln_free_r(void *cfg)'),
    ps_init: ps.func('void *ps_init(void *config)'),
    ps_free: ps.func('int ps_free(void *ps)'),
    ps_set_jsgf_string: ps.func('int ps_set_jsgf_string(void *ps, const char *name, const char *jsgf)'),
    ps_set_search: ps.func('int ps_set_search(void *ps, const char *name)'),
    ps_start_utt: ps.func('int ps_start_utt(void *ps)'),
    ps_process_raw: ps.func('int ps_process_raw(void *ps, const int16_t *data, size_t n, int no_search, int full_utt)'),
    ps_end_utt: ps.func('int ps_end_utt(void *ps)'),
    ps_get_hyp: ps.func('const char *ps_get_hyp(void *ps, _Out_ int32_t *score)'),
    ps_nbest: ps.func('void *ps_nbest(void *ps)'),
    ps_nbest_next: ps.func('void *ps_nbest_next(void *nb)'),
    ps_nbest_hyp: ps.func('const char *ps_nbest_hyp(void *nb, _Out_ int32_t *score)'),
    ps_nbest_free: ps.func('void ps_nbest_free(void *nb)'),
  } as unknown as Api;
  return api;
}

/** Checks that the library and model are there; throws a message saying what to install. */
export function checkPocketsphinx(modelDir = DEFAULT_POCKETSPHINX_OPTIONS.modelDir): void {
  loadApi();
  if (!existsSync(join(modelDir, 'en-us', 'mdef'))) {
    throw new Error(`no PocketSphinx acoustic model in ${modelDir}; install it: apt-get install pocketsphinx-en-us`);
  }
}

class PocketsphinxDecoder implements Decoder {
  private frames = 0;

  constructor(
    private readonly lib: Api,
    private readonly ps: Pointer,
    private readonly options: PocketsphinxOptions,
  ) {}

  start(): void {
    this.frames = 0;
    if (this.lib.ps_start_utt(this.ps) < 0) throw new Error('pocketsphinx could not start an utterance');
  }

  write(pcm16k: Int16Array): void {
    if (pcm16k.length === 0) return;
    this.frames += pcm16k.length;
    if (this.lib.ps_process_raw(this.ps, pcm16k, pcm16k.length, 0, 0) < 0) {
      throw new Error('pocketsphinx failed to process audio');
    }
  }

  end(): RecognitionResult {
    this.lib.ps_end_utt(this.ps);
    const audioMs = Math.round((this.frames / SAMPLE_RATE) * 1000);
    const raw: { text: string; logScore: number }[] = [];
    const best = [0];
    const hyp = this.lib.ps_get_hyp(this.ps, best);
    if (hyp !== null && hyp.trim() !== '') raw.push({ text: hyp, logScore: best[0] * this.options.scoreScale });
    let nb = this.lib.ps_nbest(this.ps);
    for (let i = 0; nb !== null && i < this.options.nbest; i += 1) {
      nb = this.lib.ps_nbest_next(nb);
      if (nb === null) break;
      const score = [0];
      const text = this.lib.ps_nbest_hyp(nb, score);
      if (text !== null && text.trim() !== '') raw.push({ text, logScore: score[0] * this.options.scoreScale });
    }
    if (nb !== null) this.lib.ps_nbest_free(nb);
    const { nbest, confidence } = normalizeNbest(raw);
    return { nbest, confidence, audioMs };
  }

  free(): void {
    this.lib.ps_free(this.ps);
  }
}

export class PocketsphinxFactory implements DecoderFactory {
  private readonly lib: Api;

  constructor(private readonly options: PocketsphinxOptions = DEFAULT_POCKETSPHINX_OPTIONS) {
    checkPocketsphinx(options.modelDir);
    this.lib = loadApi();
  }

  create(grammar: Grammar): Decoder {
    const dir = join(tmpdir(), 'attendant-pocketsphinx');
    mkdirSync(dir, { recursive: true });
    const dictPath = join(dir, `${grammar.key}.dict`);
    if (!existsSync(dictPath)) writeFileSync(dictPath, grammar.dict);
    const argv = [
      '-hmm', join(this.options.modelDir, 'en-us'),
      '-dict', dictPath,
      '-logfn', '/dev/null',
      '-samprate', String(SAMPLE_RATE),
    ];
    const config = this.lib.cmd_ln_parse_r(null, this.lib.ps_args(), argv.length, argv, 1);
    if (config === null) throw new Error('pocketsphinx rejected its configuration');
    const ps = this.lib.ps_init(config);
    if (ps === null) throw new Error(`pocketsphinx could not load its model from ${this.options.modelDir}`);
    if (this.lib.ps_set_jsgf_string(ps, 'store', grammar.jsgf) < 0 || this.lib.ps_set_search(ps, 'store') < 0) {
      this.lib.ps_free(ps);
      throw new Error('pocketsphinx rejected the store grammar');
    }
    return new PocketsphinxDecoder(this.lib, ps, this.options);
  }

  close(): void {}
}
