import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { CMU_PHONES } from './phones';

/**
 * Acoustic models by locale. Each folder under the models directory (`models/`, or
 * ATTENDANT_MODELS_DIR) is one model. A `model.json` manifest says what it is:
 *
 *   { "engine": "pocketsphinx", "locale": "fr-FR", "sampleRate": 8000,
 *     "acoustic": ".", "dictionary": "fr.dict" }
 *
 * Without a manifest the layout says it: a PocketSphinx model has `mdef` and `means`, a Vosk
 * model `am/` and `graph/`; the locale comes from the folder's name ("fr-ptm-8khz",
 * "vosk-model-small-fr-0.22"), the sample rate from the name ("8khz") or feat.params' upper
 * frequency, and the dictionary is a `.dict` file inside the folder or, named after the
 * language ("fr.dict"), beside it. Debian's US English PocketSphinx model is always there
 * as the fallback of every locale.
 */

export type ModelEngine = 'pocketsphinx' | 'vosk';
export type ModelLocale = 'fr-FR' | 'en-US';

export interface AcousticModel {
  /** The folder's name ("fr-ptm-8khz-ci"), or "en-us" for Debian's model. */
  id: string;
  engine: ModelEngine;
  locale: ModelLocale;
  /** The rate the model was trained at; audio is converted to it. */
  sampleRate: 8000 | 16000;
  /** The acoustic model's folder (pocketsphinx -hmm, or the Vosk model folder). */
  dir: string;
  /** Pronunciation dictionary (pocketsphinx). */
  dictionary?: string;
  /** The model's phones, SIL and fillers left out (pocketsphinx, from mdef). */
  phones: string[];
  /** No triphones (a text mdef with 0 n_tri, as the French rebuild): one speed serves it. */
  contextIndependent: boolean;
  /** How it was found. */
  source: 'manifest' | 'layout' | 'system';
}

export const SYSTEM_MODEL_DIR = '/usr/share/pocketsphinx/model/en-us';

/** Where models are looked for: ATTENDANT_MODELS_DIR, or `models/` under the working folder. */
export function modelsDir(env: NodeJS.ProcessEnv = process.env): string {
  return resolve(env.ATTENDANT_MODELS_DIR ?? 'models');
}

/** Debian's US English model (pocketsphinx-en-us), or undefined when it is not installed. */
export function systemModel(root = SYSTEM_MODEL_DIR): AcousticModel | undefined {
  const dir = join(root, 'en-us');
  if (!existsSync(join(dir, 'mdef'))) return undefined;
  return {
    id: 'en-us',
    engine: 'pocketsphinx',
    locale: 'en-US',
    sampleRate: 16000,
    dir,
    dictionary: join(root, 'cmudict-en-us.dict'),
    // Its mdef is binary; its phones are CMUdict's.
    phones: [...CMU_PHONES],
    contextIndependent: false,
    source: 'system',
  };
}

export class ModelError extends Error {}

/** Every model under `root`, in name order; a folder that is no model is reported in `problems`. */
export function findModels(root: string): { models: AcousticModel[]; problems: string[] } {
  const models: AcousticModel[] = [];
  const problems: string[] = [];
  if (!existsSync(root)) return { models, problems };
  for (const name of readdirSync(root).sort()) {
    const dir = join(root, name);
    if (name.startsWith('.') || !statSync(dir).isDirectory()) continue;
    try {
      models.push(readModel(dir));
    } catch (err) {
      problems.push(`${dir}: ${(err as Error).message}`);
    }
  }
  return { models, problems };
}

interface Manifest {
  engine?: string;
  locale?: string;
  sampleRate?: number;
  acoustic?: string;
  dictionary?: string;
}

/** The model in `dir`, from its manifest or its layout; throws, saying what is wrong. */
export function readModel(dir: string): AcousticModel {
  const manifestPath = join(dir, 'model.json');
  let manifest: Manifest = {};
  if (existsSync(manifestPath)) {
    try {
      manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as Manifest;
    } catch (err) {
      throw new ModelError(`model.json is not valid JSON (${(err as Error).message})`);
    }
  }
  const id = basename(dir);
  const acoustic = resolve(dir, manifest.acoustic ?? '.');
  const engine = manifest.engine ?? (isVosk(acoustic) ? 'vosk' : isPocketsphinx(acoustic) ? 'pocketsphinx' : undefined);
  if (engine !== 'pocketsphinx' && engine !== 'vosk') {
    throw new ModelError(
      manifest.engine === undefined
        ? 'neither a PocketSphinx model (mdef, means, variances, mixture_weights, transition_matrices, noisedict) nor a Vosk model (am/, graph/)'
        : `engine "${manifest.engine}" is not pocketsphinx or vosk`,
    );
  }
  const locale = manifest.locale ?? localeFromName(id);
  if (locale !== 'fr-FR' && locale !== 'en-US') {
    throw new ModelError(
      locale === undefined
        ? 'its locale cannot be told from its name: add a model.json with "locale": "fr-FR" or "en-US"'
        : `locale "${locale}" is not fr-FR or en-US`,
    );
  }
  const source = existsSync(manifestPath) ? 'manifest' : 'layout';
  if (engine === 'vosk') {
    if (!isVosk(acoustic)) throw new ModelError('a Vosk model needs am/ and graph/ (or final.mdl and HCLG.fst)');
    return { id, engine, locale, sampleRate: 16000, dir: acoustic, phones: [], contextIndependent: false, source };
  }
  const missing = POCKETSPHINX_FILES.filter((f) => !existsSync(join(acoustic, f)));
  if (!existsSync(join(acoustic, 'mixture_weights')) && !existsSync(join(acoustic, 'sendump')))
    missing.push('mixture_weights (or sendump)');
  if (missing.length > 0) throw new ModelError(`a PocketSphinx model needs ${missing.join(', ')}`);
  const sampleRate = manifest.sampleRate ?? sampleRateOf(acoustic, id);
  if (sampleRate !== 8000 && sampleRate !== 16000) throw new ModelError(`sampleRate ${sampleRate} is not 8000 or 16000`);
  const dictionary = manifest.dictionary !== undefined ? resolve(dir, manifest.dictionary) : findDictionary(acoustic, locale);
  if (dictionary === undefined)
    throw new ModelError(`no pronunciation dictionary: put a .dict file in the folder or name it in model.json ("dictionary")`);
  if (!existsSync(dictionary)) throw new ModelError(`the dictionary ${dictionary} does not exist`);
  const mdef = readMdefText(acoustic);
  const phones = mdef === undefined ? [...CMU_PHONES] : phonesOf(mdef);
  const contextIndependent = mdef !== undefined && /^\s*0\s+n_tri\b/m.test(mdef);
  return { id, engine, locale, sampleRate, dir: acoustic, dictionary, phones, contextIndependent, source };
}

export const POCKETSPHINX_FILES = ['mdef', 'means', 'variances', 'transition_matrices', 'noisedict'];

function isPocketsphinx(dir: string): boolean {
  return existsSync(join(dir, 'mdef'));
}

function isVosk(dir: string): boolean {
  const has = (f: string): boolean => existsSync(join(dir, f));
  return (has('am') || has('final.mdl')) && (has('graph') || has('HCLG.fst') || has('HCLr.fst'));
}

export function localeFromName(name: string): ModelLocale | undefined {
  const lang = /(?:^|[-_])(fr|en)(?:[-_]|$)/i.exec(name)?.[1]?.toLowerCase();
  return lang === 'fr' ? 'fr-FR' : lang === 'en' ? 'en-US' : undefined;
}

function sampleRateOf(dir: string, name: string): number {
  if (/8k/i.test(name)) return 8000;
  if (/16k/i.test(name)) return 16000;
  const params = existsSync(join(dir, 'feat.params')) ? readFileSync(join(dir, 'feat.params'), 'utf8') : '';
  const upper = /-upperf\s+(\d+)/.exec(params);
  return upper !== null && Number(upper[1]) <= 4000 ? 8000 : 16000;
}

/** A model's dictionary: a `.dict` in its folder, else the language's ("fr.dict") beside the folder. */
export function findDictionary(dir: string, locale: ModelLocale): string | undefined {
  const inside = readdirSync(dir)
    .filter((f) => f.endsWith('.dict') && f !== 'noisedict')
    .sort();
  if (inside.length > 0) return join(dir, inside[0]);
  const beside = join(dirname(dir), `${locale.slice(0, 2)}.dict`);
  return existsSync(beside) ? beside : undefined;
}

/** A text mdef, or undefined for a binary one (Debian's models: CMUdict's phones). */
function readMdefText(dir: string): string | undefined {
  const bytes = readFileSync(join(dir, 'mdef'));
  return bytes.subarray(0, 4).toString('latin1') === 'BMDF' ? undefined : bytes.toString('utf8');
}

/** The base phones of a PocketSphinx text mdef, SIL and fillers left out. */
function phonesOf(mdef: string): string[] {
  const phones: string[] = [];
  for (const line of mdef.split('\n')) {
    const m = /^\s*(\S+)\s+-\s+-\s+-\s+(\S+)\s+\d+/.exec(line);
    if (m !== null && m[2] !== 'filler') phones.push(m[1]);
  }
  if (phones.length === 0) throw new ModelError('its mdef lists no phones');
  return phones;
}

/** The PocketSphinx models a process decodes with: the system one and those installed, by id. */
export interface ModelCatalog {
  models: AcousticModel[];
  problems: string[];
}

export function loadCatalog(env: NodeJS.ProcessEnv = process.env): ModelCatalog {
  return catalogAt(modelsDir(env));
}

/** Debian's model (when installed) and the models under `root`. */
export function catalogAt(root: string): ModelCatalog {
  const { models, problems } = findModels(root);
  const system = systemModel();
  return { models: system === undefined ? models : [system, ...models.filter((m) => m.id !== system.id)], problems };
}

/**
 * The PocketSphinx model for a locale: an installed one first, Debian's US English model
 * when none is installed for the locale.
 */
export function pocketsphinxModelFor(catalog: ModelCatalog, locale: string): AcousticModel | undefined {
  const ps = catalog.models.filter((m) => m.engine === 'pocketsphinx');
  return (
    ps.find((m) => m.locale === locale && m.source !== 'system') ??
    ps.find((m) => m.locale === locale) ??
    ps.find((m) => m.source === 'system')
  );
}

/**
 * The PocketSphinx models a store of `locale` is heard with, its own first: a French model
 * with Debian's US English one beside it (they are wrong on different callers); an installed
 * English model alone; Debian's model alone when the locale has none of its own.
 */
export function modelsForLocale(catalog: ModelCatalog, locale: string): AcousticModel[] {
  const own = pocketsphinxModelFor(catalog, locale);
  if (own === undefined) return [];
  const system = catalog.models.find((m) => m.source === 'system');
  return own.locale === 'fr-FR' && own.source !== 'system' && system !== undefined ? [own, system] : [own];
}
