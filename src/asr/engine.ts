import { AcousticModel, loadCatalog } from './models';
import { PocketsphinxFactory } from './pocketsphinx';
import { checkPocketsphinx } from './pocketsphinx-binding';
import { PocketsphinxProfile, pocketsphinxProfile } from './pocketsphinx-tuning';
import { DecoderFactory, EngineName } from './recognizer';
import { VoskFactory, voskModelPath, voskModelProblem } from './vosk';

export type EngineSetting = EngineName | 'auto';

export interface EngineSpec {
  engine: EngineName;
  voskModel: string;
  /** How pocketsphinx spends CPU (ATTENDANT_ASR_PROFILE). */
  profile: PocketsphinxProfile;
  /** The PocketSphinx models every worker loads: Debian's US English model first, then those installed. */
  models: AcousticModel[];
}

/**
 * Which engine runs: `vosk` when asked or (for `auto`) when a Vosk model is present,
 * else `pocketsphinx`. Throws, with what to do, when the chosen engine cannot run.
 */
export function resolveEngine(
  setting: EngineSetting,
  voskModel = voskModelPath(),
  profile = pocketsphinxProfile(),
  models: AcousticModel[] = loadCatalog().models.filter((m) => m.engine === 'pocketsphinx'),
): EngineSpec {
  if (setting === 'vosk' || (setting === 'auto' && voskModelProblem(voskModel) === undefined)) {
    const problem = voskModelProblem(voskModel);
    if (problem !== undefined) throw new Error(`ATTENDANT_ASR_ENGINE=vosk: ${problem}`);
    return { engine: 'vosk', voskModel, profile, models: [] };
  }
  if (setting !== 'auto' && setting !== 'pocketsphinx') {
    throw new Error(`ATTENDANT_ASR_ENGINE="${String(setting)}" is not an engine; use auto, vosk or pocketsphinx`);
  }
  checkPocketsphinx();
  return { engine: 'pocketsphinx', voskModel, profile, models };
}

export function createDecoderFactory(spec: EngineSpec): DecoderFactory {
  return spec.engine === 'vosk'
    ? new VoskFactory(spec.voskModel)
    : new PocketsphinxFactory(spec.models.length > 0 ? spec.models : undefined, spec.profile);
}
