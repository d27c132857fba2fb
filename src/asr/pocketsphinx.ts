import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { threadId } from 'node:worker_threads';
import { Grammar, GARBAGE_PREFIX } from './grammar';
import { jsgfToFsg } from './fsg';
import { SpeechPresence } from '../media/speech-presence';
import { addLineNoise, raiseQuietLine, withoutDc } from './noise-floor';
import { Api, blockCepstra, loadApi, checkPocketsphinx, pocketsphinxModelDir, Pointer } from './pocketsphinx-binding';
import { CMN_MARGIN_MS, subtractMean } from './cepstral-mean';
import {
  Beams,
  CONTEXT_INDEPENDENT,
  CONTEXT_INDEPENDENT_FAST,
  DecoderTuning,
  LINE_NOISE,
  lineNoiseShape,
  LOOP_BEAMS,
  PocketsphinxProfile,
  SPEEDS,
  SpeedSettings,
} from './pocketsphinx-tuning';
import { AcousticModel, systemModel } from './models';
import { resample } from '../media/resample';
import { findSpeechSpan, frameSpeech, MIN_SNR_DB, SPAN_BEFORE_MS } from './speech-span';
import { Decoder, DecoderFactory, DecoderPart, FitCalibration, Speed, GrammarDecoders, RecognitionResult, SAMPLE_RATE } from './recognizer';

/**
 * CMU PocketSphinx (Debian's libpocketsphinx3) driven in-process (the binding: pocketsphinx-binding.ts; its tuning: pocketsphinx-tuning.ts).
 *
 * Each utterance is decoded twice, side by side, frame by frame: by the store's JSGF
 * grammar (what was said) and by a free loop of phones (how well any speech fits).
 * The gap between the two scores per frame says whether the caller said something the
 * grammar holds: a name absent from the directory fits the grammar far worse than the loop.
 */

/** Path scores are in log base 1.0001, shifted right by 10 bits (SENSCR_SHIFT); frames are 10 ms. */
const LOG_BASE = Math.log(1.0001) * 1024;
const SAMPLES_PER_FRAME = SAMPLE_RATE / 100;

/**
 * One pocketsphinx decoder, so one copy of the acoustic model, holding many grammars as
 * named searches: the phone loop and every store (or answer set) this worker serves. A
 * worker decodes one utterance at a time, so one decoder is enough; a grammar costs its
 * search alone (a few MB and milliseconds), not a model.
 *
 * The dictionary is shared by the searches and only grows. A word that two grammars
 * pronounce differently gets a private name in the later one ("martin__7"), which is taken
 * off again in the hypothesis; the searches see exactly the pronunciations their own
 * dictionaries gave, as separate decoders would.
 */
class SharedDecoder {
  /** Pronunciations in the dictionary, by word: alternates in order. */
  private readonly words = new Map<string, string[]>();
  private readonly searches = new Map<string, string>();
  private grammarsLoaded = 0;
  private freed = false;

  private constructor(
    private readonly lib: Api,
    private readonly ps: Pointer,
    /** Where set, the cepstral mean is taken over the speech and this much quiet either side (normalizeOverSpeech). */
    private readonly cmnMarginMs?: number,
  ) {}

  /** Whether the cepstral mean is taken over the speech (the French telephone model), not over every frame heard. */
  get meanOverSpeech(): boolean {
    return this.cmnMarginMs !== undefined;
  }

  /**
   * A decoder for grammars, with the phone loop among its searches when `loop` is
   * 'triphone'; or, when `loop` is 'filler', a decoder for the phone loop alone whose phones
   * are filler words: pocketsphinx models fillers without context, so the loop is some 40
   * context-independent phones instead of every phone in every left and right context.
   */
  static create(lib: Api, model: AcousticModel, loop: 'triphone' | 'filler' | 'none', tuning: DecoderTuning = {}): SharedDecoder {
    const loopDict = loopDictionary(model);
    const dictArgs =
      loop === 'filler'
        ? [
            '-dict',
            writeOnce('loop-main.dict', 'sil SIL\n'),
            '-fdict',
            writeOnce(`${model.id}-loop-filler.dict`, `${readFileSync(join(model.dir, 'noisedict'), 'utf8').trim()}\n${loopDict}`),
          ]
        : ['-dict', writeOnce(`${model.id}-phone-loop.dict`, loopDict)];
    // An 8 kHz model takes 8 kHz audio and a 256-point FFT; a context-independent one (no
    // triphones: the French rebuild) gains from scoring more Gaussians per frame (-topn).
    const rateArgs = model.sampleRate === 8000 ? ['-samprate', '8000', '-nfft', '256'] : ['-samprate', String(SAMPLE_RATE)];
    const topn = tuning.topn ?? (model.contextIndependent ? 16 : undefined);
    // The French telephone model's cepstral mean is taken over the speech (cepstral-mean.ts):
    // its decoders compute no mean of their own. The model's feat.params overrides -cmn on
    // the command line, so a copy of it says so.
    const cmnMarginMs = tuning.cmnMarginMs ?? (model.contextIndependent ? CMN_MARGIN_MS : undefined);
    const featArgs =
      cmnMarginMs === undefined
        ? ['-cmn', 'batch']
        : [
            '-featparams',
            writeOnce(`${model.id}-feat-no-cmn.params`, withoutCmn(readFileSync(join(model.dir, 'feat.params'), 'utf8'))),
            '-cmn',
            'none',
          ];
    const argv = [
      '-hmm',
      model.dir,
      ...dictArgs,
      ...rateArgs,
      ...(topn !== undefined ? ['-topn', String(topn)] : []),
      ...featArgs,
      '-remove_noise',
      'no',
      '-remove_silence',
      'no',
    ];
    const config = lib.cmd_ln_parse_r(null, lib.ps_args(), argv.length, argv, 1);
    if (config === null) throw new Error(`pocketsphinx rejected its configuration for the model ${model.id}`);
    const ps = lib.ps_init(config);
    if (ps === null) throw new Error(`pocketsphinx could not load the model ${model.id} from ${model.dir}`);
    const decoder = new SharedDecoder(lib, ps, cmnMarginMs);
    for (const [word, prons] of parseDictionary(loopDict)) decoder.words.set(word, prons);
    if (loop === 'none') return decoder;
    decoder.setBeams(LOOP_BEAMS);
    if (lib.ps_set_jsgf_string(ps, LOOP_SEARCH, loopGrammar(model)) < 0) {
      lib.ps_free(ps);
      throw new Error(`pocketsphinx rejected the phone loop of the model ${model.id}`);
    }
    decoder.searches.set(LOOP_SEARCH, LOOP_SEARCH);
    return decoder;
  }

  /**
   * Adds a grammar as a search under `key` (once), with its own beams; throws, saying so,
   * when pocketsphinx refuses it.
   */
  load(grammar: Grammar, key: string, beams: Beams): void {
    if (this.searches.has(key)) return;
    const n = (this.grammarsLoaded += 1);
    // The dictionary words each grammar word stands for in this search, when not itself: a
    // private name, or one word per pronunciation (see alternateNames).
    const renamed = new Map<string, string[]>();
    for (const [word, prons] of parseDictionary(grammar.dict)) {
      const known = this.words.get(word);
      const base = known === undefined || known.join('|') === prons.join('|') ? word : `${word}${PRIVATE_MARK}${n}`;
      const names = alternateNames(base, prons.length);
      if (known === undefined || base !== word) {
        names.forEach((name, i) => {
          if (this.lib.ps_add_word(this.ps, name, prons[i], 0) < 0)
            throw new Error(`pocketsphinx refused the pronunciation "${prons[i]}" of "${word}"`);
        });
        this.words.set(base, prons);
      }
      if (names.length > 1 || base !== word) renamed.set(word, names);
    }
    const name = `g${n}`;
    this.setBeams(beams);
    // Compiled here, not by pocketsphinx's JSGF compiler (see fsg.ts), and read from a file:
    // the FSG reader takes a path.
    const file = join(tmpdir(), `attendant-grammar-${process.pid}-${threadId}-${n}.fsg`);
    writeFileSync(
      file,
      jsgfToFsg(grammar.jsgf, (word) => renamed.get(word) ?? [word]),
    );
    try {
      // -lw is pocketsphinx's default; every transition has probability 1, so it scales nothing.
      const fsg = this.lib.fsg_model_readfile(file, this.lib.ps_get_logmath(this.ps), 6.5);
      if (fsg === null)
        throw new Error('pocketsphinx could not read the compiled grammar (ATTENDANT_PS_LOG=1 shows its messages on stderr)');
      // The search keeps its own reference to the grammar.
      const added = this.lib.ps_set_fsg(this.ps, name, fsg);
      this.lib.fsg_model_free(fsg);
      if (added < 0) throw new Error('pocketsphinx rejected the grammar (ATTENDANT_PS_LOG=1 shows its messages on stderr)');
    } finally {
      rmSync(file, { force: true });
    }
    this.searches.set(key, name);
  }

  /**
   * The utterance's cepstra computed by the decoder's own front end, less their mean over
   * the speech and `marginMs` either side (all frames where the speech is not known), then
   * searched as a whole utterance. As ps_process_raw, but for the mean, and for the partial
   * frame fe_end_utt would make of the last few ms of quiet, left out.
   */
  private normalizeOverSpeech(pcm: Int16Array, speechMs: [number, number] | undefined, marginMs: number): number {
    const fe = this.lib.ps_get_fe(this.ps);
    const width = this.lib.fe_get_output_size(fe);
    this.lib.fe_start_utt(fe);
    const block: Pointer[] = [null];
    const count = [0];
    if (this.lib.fe_process_utt(fe, pcm, pcm.length, block, count) < 0) return -1;
    try {
      // The front end holds the last samples over: ended here, or ps_end_utt would search
      // them as one more frame, with no mean taken off and the left context of the
      // utterance before (each decoder's first utterance was heard otherwise).
      this.lib.fe_end_utt(fe, new Float32Array(width), [0]);
      const frames = count[0];
      if (frames === 0) return 0;
      // 100 frames a second, whatever the sample rate (pocketsphinx's -frate).
      const [from, to] = speechMs === undefined ? [0, frames] : [(speechMs[0] - marginMs) / 10, (speechMs[1] + marginMs) / 10];
      subtractMean(blockCepstra(block[0], frames, width), width, from, to);
      return this.lib.ps_process_cep(this.ps, block[0], frames, 0, 1);
    } finally {
      this.lib.ckd_free_2d(block[0]);
    }
  }

  /** A search takes the beams in the configuration when it is added (fsg_search_init), and keeps them. */
  private setBeams(beams: Beams): void {
    const config = this.lib.ps_get_config(this.ps);
    this.lib.cmd_ln_set_float_r(config, '-beam', beams.beam);
    this.lib.cmd_ln_set_float_r(config, '-pbeam', beams.pbeam);
    this.lib.cmd_ln_set_float_r(config, '-wbeam', beams.wbeam);
  }

  unload(key: string): void {
    const name = this.searches.get(key);
    if (name === undefined || key === LOOP_SEARCH || this.freed) return;
    this.searches.delete(key);
    this.lib.ps_unset_search(this.ps, name);
  }

  /**
   * Decodes a whole utterance with one search (a grammar key, or LOOP_SEARCH); `speechMs`
   * is where the speech lies in `pcm` (ms from its start), for a decoder that takes the
   * cepstral mean over it.
   */
  decode(key: string, pcm: Int16Array, hasSpeech: boolean, speechMs?: [number, number]): { text: string | null; score: number } {
    const name = this.searches.get(key);
    // ps_set_search dereferences a search it does not find: never ask for one not loaded.
    if (name === undefined || this.lib.ps_set_search(this.ps, name) < 0) throw new Error('the grammar is not loaded in this decoder');
    if (this.lib.ps_start_utt(this.ps) < 0) throw new Error('pocketsphinx could not start an utterance');
    const processed = !hasSpeech
      ? 0
      : this.cmnMarginMs === undefined
        ? this.lib.ps_process_raw(this.ps, pcm, pcm.length, 0, 1)
        : this.normalizeOverSpeech(pcm, speechMs, this.cmnMarginMs);
    if (processed < 0) {
      this.lib.ps_end_utt(this.ps);
      throw new Error('pocketsphinx failed to process audio');
    }
    this.lib.ps_end_utt(this.ps);
    const score = [0];
    const text = this.lib.ps_get_hyp(this.ps, score);
    return { text: text === null ? null : text.replace(PRIVATE_WORD, ''), score: score[0] };
  }

  free(): void {
    if (this.freed) return;
    this.freed = true;
    this.lib.ps_free(this.ps);
  }
}

/** Writes a file pocketsphinx reads by name, once per content, atomically (workers start together). */
function writeOnce(name: string, text: string): string {
  const dir = join(tmpdir(), 'attendant-pocketsphinx');
  mkdirSync(dir, { recursive: true });
  const path = join(dir, name);
  if (existsSync(path) && readFileSync(path, 'utf8') === text) return path;
  const partial = `${path}.${process.pid}.${threadId}`;
  writeFileSync(partial, text);
  renameSync(partial, path);
  return path;
}

const LOOP_SEARCH = 'phone-loop';
/** Marks a word's private name in one grammar, and its alternate pronunciations; dictionary tokens never contain it. */
const PRIVATE_MARK = '__';
const PRIVATE_WORD = /(?:__p?\d+)+(?=\s|$)/g;

/**
 * The dictionary words that stand for one grammar word with `count` pronunciations: the word
 * itself, then "word__p2", "word__p3"... The compiled grammar gives each its own transition
 * (probability 1, as pocketsphinx gives a dictionary alternate), instead of the dictionary
 * holding "word(2)": pocketsphinx adds a dictionary alternate to a grammar by walking every
 * transition of the grammar once per alternate word (fsg_model_add_alt), which took 6.5 s
 * for 2,000 entries and minutes for 50,000, on the worker that every call needs.
 */
function alternateNames(word: string, count: number): string[] {
  return Array.from({ length: count }, (_, i) => (i === 0 ? word : `${word}${PRIVATE_MARK}p${i + 1}`));
}

/** "word PHONES" / "word(2) PHONES" lines to each word's pronunciations, alternates in order. */
function parseDictionary(text: string): Map<string, string[]> {
  const words = new Map<string, string[]>();
  for (const line of text.split('\n')) {
    const m = /^(\S+?)(?:\((\d+)\))?\s+(.+)$/.exec(line.trim());
    if (m === null) continue;
    const list = words.get(m[1]) ?? [];
    list.push(m[3].trim());
    words.set(m[1], list);
  }
  return words;
}

/**
 * One utterance. Audio is kept until the end and decoded as a whole utterance, so that
 * cepstral mean normalization is computed over this caller's speech alone (-cmn batch,
 * as the model was trained). Streaming decoding carried the previous caller's mean into
 * the next call: the same audio scored differently depending on who called before.
 */
class PocketsphinxDecoder implements Decoder {
  private samples = 0;
  private readonly chunks: Int16Array[] = [];
  private open = true;

  constructor(
    private readonly decoder: SharedDecoder,
    private readonly loopDecoder: SharedDecoder,
    private readonly grammarKey: string,
    private readonly calibration: FitCalibration,
    private readonly part: DecoderPart = 'both',
    private readonly sampleRate: number = SAMPLE_RATE,
    private readonly speed?: Speed,
  ) {}

  write(pcm16k: Int16Array): void {
    if (pcm16k.length === 0 || !this.open) return;
    this.samples += pcm16k.length;
    this.chunks.push(pcm16k);
  }

  end(): RecognitionResult {
    if (!this.open) throw new Error('no utterance was started');
    this.open = false;
    const audio = new Int16Array(this.samples);
    let offset = 0;
    for (const chunk of this.chunks.splice(0)) {
      audio.set(chunk, offset);
      offset += chunk.length;
    }
    // Levels are measured, and the words decoded, without the line's DC offset (withoutDc).
    const line = withoutDc(audio);
    // The words framed alike whatever the line put around them (speech-span.ts); whether they
    // are speech at all is judged on that frame, not on seconds of silence around a short word.
    const span = findSpeechSpan(line);
    // The line's floor around the speech as digital silence only for a model whose cepstral
    // mean is taken over the speech: the US English model, whose mean is the whole
    // utterance's, then put a name not in the directory through (synthetic English store,
    // dev set) and heard real English digits under line noise worse.
    const framed = frameSpeech(line, span, SAMPLE_RATE, this.decoder.meanOverSpeech);
    const presence = new SpeechPresence();
    presence.write(framed);
    // Or a span standing over the line's floor, loud enough: a quiet word on a noisy line
    // (yweweler's digits at -35 dBFS over line noise at -42) rises too little once framed.
    const speech = presence.hasSpeech() || (span !== undefined && span.overFloorDb >= MIN_SNR_DB && presence.loudEnough());
    // For a telephone-band (8 kHz) model, a quiet line is raised before the line noise is
    // added, so that it lies as far below its speech as below anyone's. The wideband US
    // English model hears the line as it came: raised, real English digits were heard right
    // 36.7 % (every speaker worse: 32.5 / 43.3 / 34.2 %) against 40.6 % (35.0 / 50.8 / 35.8 %)
    // (docs/benchmarks.md). (A 3.6-8 kHz noise floor for it was added here too: on real
    // speech it did no better than the line noise alone, and French commands were heard
    // right 85.6 % without it against 82.8 % with it.)
    const raised = this.sampleRate < SAMPLE_RATE ? raiseQuietLine(framed) : framed;
    const atRate = this.sampleRate === SAMPLE_RATE ? raised : resample(raised, SAMPLE_RATE, this.sampleRate);
    const pcm = addLineNoise(atRate, LINE_NOISE, lineNoiseShape(this.sampleRate));
    const frames = Math.max(1, framed.length / SAMPLES_PER_FRAME);
    const audioMs = Math.round((this.samples / SAMPLE_RATE) * 1000);
    const speechMs = span === undefined ? undefined : ((span.end - span.start) / SAMPLE_RATE) * 1000;
    const heard = span === undefined || speechMs === undefined ? {} : { speechMs: Math.round(speechMs), clearSpeech: span.clear };
    // A grammar search always finds some name, even in silence or steady noise: those are not decoded.
    // Where the speech lies in what the decoders hear: framed, it starts SPAN_BEFORE_MS in.
    const speechAt: [number, number] | undefined = speechMs === undefined ? undefined : [SPAN_BEFORE_MS, SPAN_BEFORE_MS + speechMs];
    const names = this.part === 'loop' ? undefined : this.decoder.decode(this.grammarKey, pcm, speech, speechAt);
    const loop = this.part === 'grammar' ? undefined : this.loopDecoder.decode(LOOP_SEARCH, pcm, speech, speechAt);
    const perFrame = (score: number): number => (score * LOG_BASE) / frames;
    if (names === undefined) {
      // The phone-loop half of a split utterance.
      return {
        nbest: [],
        confidence: 0,
        audioMs,
        ...heard,
        fitParts: speech && loop !== undefined ? { loop: perFrame(loop.score) } : undefined,
      };
    }
    if (!speech || names.text === null || names.text.trim() === '') return { nbest: [], confidence: 0, audioMs, ...heard };
    const nbest = [{ text: names.text.trim(), score: 0 }];
    const { calibration: fitCalibration, speed } = this;
    if (loop === undefined)
      return { nbest, confidence: 1, audioMs, ...heard, fitCalibration, speed, fitParts: { grammar: perFrame(names.score) } };
    const fitParts = { grammar: perFrame(names.score), loop: perFrame(loop.score) };
    return { nbest, confidence: 1, audioMs, ...heard, fitCalibration, speed, fit: fitParts.grammar - fitParts.loop, fitParts };
  }
}

/** A model's feat.params saying that the decoder computes no cepstral mean (-cmn none). */
export function withoutCmn(featParams: string): string {
  const lines = featParams.split('\n').filter((l) => !/^-cmn\s/.test(l.trim()) && l.trim() !== '');
  return `${[...lines, '-cmn none'].join('\n')}\n`;
}

/** A free loop of the model's phones, each a word named ph_<phone>. */
function loopGrammar(model: AcousticModel): string {
  return [
    '#JSGF V1.0;',
    'grammar loop;',
    'public <loop> = <phone>+;',
    `<phone> = ${model.phones.map((p) => `${GARBAGE_PREFIX}${p.toLowerCase()}`).join(' | ')};`,
    '',
  ].join('\n');
}

function loopDictionary(model: AcousticModel): string {
  return `${model.phones.map((p) => `${GARBAGE_PREFIX}${p.toLowerCase()} ${p}`).join('\n')}\n`;
}

/**
 * One acoustic model's decoders in a worker: the grammars' decoder (with the phone loop in
 * context for `accurate`) and, for `fast`, a loop of context-independent phones. A model
 * without triphones has a context-free loop already; its fast speed is a decoder of its own
 * (fewer Gaussians: CONTEXT_INDEPENDENT_FAST), grammars and loop.
 */
class ModelDecoders {
  readonly speeds: Speed[];
  private readonly grammars: Partial<Record<Speed, SharedDecoder>> = {};
  private readonly loops: Partial<Record<Speed, SharedDecoder>> = {};
  private readonly settings: Record<Speed, SpeedSettings>;

  constructor(
    lib: Api,
    readonly model: AcousticModel,
    profile: PocketsphinxProfile,
  ) {
    const single = model.contextIndependent;
    this.speeds = profile === 'auto' ? ['accurate', 'fast'] : [profile];
    this.settings = single ? { accurate: CONTEXT_INDEPENDENT, fast: CONTEXT_INDEPENDENT_FAST } : SPEEDS;
    try {
      if (this.speeds.includes('accurate'))
        this.grammars.accurate = this.loops.accurate = SharedDecoder.create(lib, model, 'triphone', this.settings.accurate.tuning);
      if (this.speeds.includes('fast')) {
        if (single) this.grammars.fast = this.loops.fast = SharedDecoder.create(lib, model, 'triphone', this.settings.fast.tuning);
        else {
          this.grammars.fast = this.grammars.accurate ?? SharedDecoder.create(lib, model, 'none');
          this.loops.fast = SharedDecoder.create(lib, model, 'filler');
        }
      }
    } catch (err) {
      this.close();
      throw err;
    }
  }

  /** A speed this model does not decode at gives way to the one it does. */
  speedFor(wish: Speed | undefined): Speed {
    return wish !== undefined && this.speeds.includes(wish) ? wish : this.speeds[0];
  }

  load(grammar: Grammar, speed: Speed): void {
    this.grammars[speed]!.load(grammar, searchKey(grammar.key, speed), this.settings[speed].grammarBeams);
  }

  unload(grammarKey: string, speed: Speed): void {
    this.grammars[speed]?.unload(searchKey(grammarKey, speed));
  }

  open(grammarKey: string, part: DecoderPart | undefined, speed: Speed): Decoder {
    return new PocketsphinxDecoder(
      this.grammars[speed]!,
      this.loops[speed]!,
      searchKey(grammarKey, speed),
      this.settings[speed].calibration,
      part,
      this.model.sampleRate,
      speed,
    );
  }

  close(): void {
    for (const decoder of new Set([...Object.values(this.grammars), ...Object.values(this.loops)])) decoder.free();
  }
}

export class PocketsphinxFactory implements DecoderFactory {
  /** Decoders by model id; the first is the default, for grammars that name no model. */
  private readonly models = new Map<string, ModelDecoders>();
  private readonly fallback: ModelDecoders;

  /**
   * Loads every model now, so that a broken one fails when the worker starts, not in a
   * call. `models` defaults to Debian's US English model.
   */
  constructor(models: AcousticModel[] = defaultModels(), profile: PocketsphinxProfile = 'auto') {
    checkPocketsphinx();
    const lib = loadApi();
    if (models.length === 0) throw new Error('no PocketSphinx model to load');
    try {
      for (const model of models) this.models.set(model.id, new ModelDecoders(lib, model, profile));
    } catch (err) {
      this.close();
      throw err;
    }
    this.fallback = [...this.models.values()][0];
  }

  private modelFor(id: string | undefined): ModelDecoders {
    if (id === undefined) return this.fallback;
    const model = this.models.get(id);
    if (model === undefined) throw new Error(`the acoustic model ${id} is not loaded in this worker`);
    return model;
  }

  /**
   * Loads the grammar's search at `speed` now (a bad grammar fails here, not mid-call); with
   * `auto`, the other speed's search is loaded the first time an utterance needs it.
   */
  create(grammar: Grammar, speed?: Speed): GrammarDecoders {
    const model = this.modelFor(grammar.model);
    const loaded = new Set<Speed>();
    const load = (wish: Speed | undefined): Speed => {
      const s = model.speedFor(wish);
      if (!loaded.has(s)) {
        model.load(grammar, s);
        loaded.add(s);
      }
      return s;
    };
    load(speed);
    return {
      open: (part?: DecoderPart, wish?: Speed) => model.open(grammar.key, part, load(wish)),
      free: () => {
        for (const s of loaded) model.unload(grammar.key, s);
      },
    };
  }

  openLoop(speed?: Speed, modelId?: string): Decoder {
    const model = this.modelFor(modelId);
    return model.open('', 'loop', model.speedFor(speed));
  }

  close(): void {
    for (const model of this.models.values()) model.close();
  }
}

function defaultModels(): AcousticModel[] {
  const model = systemModel(pocketsphinxModelDir());
  if (model === undefined)
    throw new Error(`no PocketSphinx acoustic model in ${pocketsphinxModelDir()}; install it: apt-get install pocketsphinx-en-us`);
  return [model];
}

const searchKey = (grammarKey: string, speed: Speed): string => `${grammarKey}|${speed}`;
