import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { findModels } from '../../src/asr/models';

/**
 * The models directory tests and benchmarks use for the French model: ATTENDANT_MODELS_DIR
 * when it holds a French PocketSphinx model, else the shared test models beside the project
 * (never shipped). Undefined, with the reason printed, when there is none.
 */
export function frenchModelsDir(what: string): string | undefined {
  const candidates = [process.env.ATTENDANT_MODELS_DIR, join(__dirname, '..', '..', '..', '..', 'shared', 'models')].filter(
    (d): d is string => d !== undefined,
  );
  for (const dir of candidates) {
    if (existsSync(dir) && findModels(dir).models.some((m) => m.engine === 'pocketsphinx' && m.locale === 'fr-FR')) return dir;
  }
  console.log(`skipped: ${what}: no French PocketSphinx model in ${candidates.join(' or ')}`);
  return undefined;
}
