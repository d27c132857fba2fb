import { FrenchLexicon } from './french-lexicon';
import { Cmudict, Lexicon } from './lexicon';
import { AcousticModel, loadCatalog, ModelCatalog, modelsForLocale } from './models';
import { POCKETSPHINX_MODEL_DIR } from './pocketsphinx-binding';

/**
 * The lexicons a store is heard with, by its locale: a French store with a French model
 * installed is heard by that model and by the US English one (they are wrong on different
 * callers); any other store by the US English model alone. Dictionaries load once.
 */
export class StoreLexicons {
  private readonly loaded = new Map<string, Lexicon>();

  constructor(
    private readonly cmudict: Cmudict,
    private readonly catalog: ModelCatalog,
  ) {}

  forLocale(locale: string): Lexicon[] {
    return modelsForLocale(this.catalog, locale).map((model) => this.lexiconFor(model));
  }

  private lexiconFor(model: AcousticModel): Lexicon {
    if (model.id === this.cmudict.model || model.dictionary === undefined) return this.cmudict;
    let lexicon = this.loaded.get(model.id);
    if (lexicon === undefined) {
      lexicon =
        model.locale === 'fr-FR'
          ? new FrenchLexicon(model.id, Cmudict.load(model.dictionary, model.id))
          : Cmudict.load(model.dictionary, model.id);
      this.loaded.set(model.id, lexicon);
    }
    return lexicon;
  }
}

/** The US English dictionary of Debian's PocketSphinx (empty where the package is absent). */
export function loadCmudict(): Cmudict {
  return Cmudict.loadIfPresent(`${POCKETSPHINX_MODEL_DIR}/cmudict-en-us.dict`);
}

/** The lexicons of a store of `locale` with the models installed (see StoreLexicons). */
export function storeLexicons(locale: string): Lexicon[] {
  return new StoreLexicons(loadCmudict(), loadCatalog()).forLocale(locale);
}
