import { existsSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The binding to CMU PocketSphinx (Debian's libpocketsphinx3, 5prealpha API) through koffi:
 * the C functions attendant calls, loaded once per process, and where the US English model is.
 * How they are used (searches, beams, speeds) is pocketsphinx.ts and pocketsphinx-tuning.ts.
 */

export const POCKETSPHINX_MODEL_DIR = '/usr/share/pocketsphinx/model/en-us';

export type Pointer = unknown;

export interface Api {
  ps_args: () => Pointer;
  cmd_ln_parse_r: (inout: Pointer, defn: Pointer, argc: number, argv: string[], strict: number) => Pointer;
  ps_init: (cfg: Pointer) => Pointer;
  ps_free: (ps: Pointer) => number;
  ps_set_jsgf_string: (ps: Pointer, name: string, jsgf: string) => number;
  ps_set_fsg: (ps: Pointer, name: string, fsg: Pointer) => number;
  ps_get_logmath: (ps: Pointer) => Pointer;
  fsg_model_readfile: (file: string, lmath: Pointer, lw: number) => Pointer;
  fsg_model_free: (fsg: Pointer) => number;
  ps_set_search: (ps: Pointer, name: string) => number;
  ps_unset_search: (ps: Pointer, name: string) => number;
  ps_add_word: (ps: Pointer, word: string, phones: string, update: number) => number;
  ps_start_utt: (ps: Pointer) => number;
  ps_process_raw: (ps: Pointer, data: Int16Array, n: number, noSearch: number, fullUtt: number) => number;
  ps_end_utt: (ps: Pointer) => number;
  ps_get_hyp: (ps: Pointer, score: number[]) => string | null;
  err_set_callback: (cb: Pointer, userData: Pointer) => void;
  err_set_logfp: (fp: Pointer) => void;
  ps_get_config: (ps: Pointer) => Pointer;
  cmd_ln_set_float_r: (config: Pointer, name: string, value: number) => void;
  /** The decoder's front end, to compute an utterance's cepstra apart (pocketsphinx.ts, normalizeOverSpeech). */
  ps_get_fe: (ps: Pointer) => Pointer;
  fe_start_utt: (fe: Pointer) => number;
  /** Cepstra of a whole utterance: `block[0]` receives a frames x ceps array (row pointers, rows contiguous), freed by ckd_free_2d. */
  fe_process_utt: (fe: Pointer, data: Int16Array, n: number, block: Pointer[], frames: number[]) => number;
  fe_get_output_size: (fe: Pointer) => number;
  /** Ends the front end's utterance: the partial frame of the samples it holds over goes to `cep` (`frames[0]` is 0 or 1). */
  fe_end_utt: (fe: Pointer, cep: Float32Array, frames: number[]) => number;
  ps_process_cep: (ps: Pointer, block: Pointer, n: number, noSearch: number, fullUtt: number) => number;
  ckd_free_2d: (block: Pointer) => void;
}

let api: Api | undefined;

export function loadApi(): Api {
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
      { cause: err },
    );
  }
  api = {
    ps_args: ps.func('void *ps_args()'),
    cmd_ln_parse_r: sb.func('void *cmd_ln_parse_r(void *inout, void *defn, int argc, const char **argv, int strict)'),
    ps_init: ps.func('void *ps_init(void *config)'),
    ps_free: ps.func('int ps_free(void *ps)'),
    ps_set_jsgf_string: ps.func('int ps_set_jsgf_string(void *ps, const char *name, const char *jsgf)'),
    ps_set_fsg: ps.func('int ps_set_fsg(void *ps, const char *name, void *fsg)'),
    ps_get_logmath: ps.func('void *ps_get_logmath(void *ps)'),
    fsg_model_readfile: sb.func('void *fsg_model_readfile(const char *file, void *lmath, float lw)'),
    fsg_model_free: sb.func('int fsg_model_free(void *fsg)'),
    ps_set_search: ps.func('int ps_set_search(void *ps, const char *name)'),
    ps_unset_search: ps.func('int ps_unset_search(void *ps, const char *name)'),
    ps_add_word: ps.func('int ps_add_word(void *ps, const char *word, const char *phones, int update)'),
    ps_start_utt: ps.func('int ps_start_utt(void *ps)'),
    ps_process_raw: ps.func('int ps_process_raw(void *ps, const int16_t *data, size_t n, int no_search, int full_utt)'),
    ps_end_utt: ps.func('int ps_end_utt(void *ps)'),
    ps_get_hyp: ps.func('const char *ps_get_hyp(void *ps, _Out_ int32_t *score)'),
    err_set_callback: sb.func('void err_set_callback(void *cb, void *user_data)'),
    err_set_logfp: sb.func('void err_set_logfp(void *fp)'),
    ps_get_config: ps.func('void *ps_get_config(void *ps)'),
    cmd_ln_set_float_r: sb.func('void cmd_ln_set_float_r(void *config, const char *name, double value)'),
    ps_get_fe: ps.func('void *ps_get_fe(void *ps)'),
    fe_start_utt: sb.func('int fe_start_utt(void *fe)'),
    fe_process_utt: sb.func('int fe_process_utt(void *fe, const int16_t *spch, size_t nsamps, _Out_ void **block, _Out_ int32_t *nframes)'),
    fe_get_output_size: sb.func('int fe_get_output_size(void *fe)'),
    fe_end_utt: sb.func('int fe_end_utt(void *fe, _Inout_ float *cepvector, _Out_ int32_t *nframes)'),
    ps_process_cep: ps.func('int ps_process_cep(void *ps, void *block, int n, int no_search, int full_utt)'),
    ckd_free_2d: sb.func('void ckd_free_2d(void *block)'),
  } as unknown as Api;
  // sphinxbase logs through one process-wide FILE: each decoder made with -logfn opened a
  // new one and fclose'd the previous while decoders in other worker threads were still
  // writing to it (heap corruption: "free(): invalid pointer"). Logging is switched off
  // instead, once: no callback for messages, no FILE for the configuration dump ps_init
  // writes (it would land on stderr, amid the JSON log). Errors still come back as return codes.
  // ATTENDANT_PS_LOG=1 leaves sphinxbase's own messages on stderr (safe: stderr is never
  // swapped), to see why it refused a grammar or a model.
  if (process.env.ATTENDANT_PS_LOG !== '1') {
    api.err_set_callback(null, null);
    api.err_set_logfp(null);
  }
  return api;
}

export function pocketsphinxModelDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.ATTENDANT_POCKETSPHINX_MODEL ?? POCKETSPHINX_MODEL_DIR;
}

/** Checks that the library and model are there; throws a message saying what to install. */
export function checkPocketsphinx(modelDir = pocketsphinxModelDir()): void {
  loadApi();
  if (!existsSync(join(modelDir, 'en-us', 'mdef'))) {
    throw new Error(`no PocketSphinx acoustic model in ${modelDir}; install it: apt-get install pocketsphinx-en-us`);
  }
}

/**
 * The cepstra of a block fe_process_utt allocated (`frames` rows of `width`), as one
 * Float32Array over its memory: sphinxbase's 2-D arrays keep their rows contiguous, after the
 * first row's pointer. Valid until ckd_free_2d frees the block.
 */
export function blockCepstra(block: Pointer, frames: number, width: number): Float32Array {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const koffi = require('koffi') as typeof import('koffi');
  const rows = koffi.decode(block, 'void *') as unknown;
  return new Float32Array(koffi.view(rows, frames * width * Float32Array.BYTES_PER_ELEMENT));
}
