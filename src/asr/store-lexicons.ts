import { FrenchLexicon } from './french-lexicon';
import { Cmudict, Lexicon } from './lexicon';
import { AcousticModel, ModelCatalog, pocketsphinxModelFor } from './models';

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

  /** The acoustic model a store of `locale` is heard with first. */
  modelFor(locale: string): AcousticModel | undefined {
    return pocketsphinxModelFor(this.catalog, locale);
  }

  forLocale(locale: string): Lexicon[] {
    const model = this.modelFor(locale);
    if (model === undefined || model.id === this.cmudict.model || model.dictionary === undefined) return [this.cmudict];
    let lexicon = this.loaded.get(model.id);
    if (lexicon === undefined) {
      lexicon = model.locale === 'fr-FR' ? new FrenchLexicon(model.id, Cmudict.load(model.dictionary, model.id)) : Cmudict.load(model.dictionary, model.id);
      this.loaded.set(model.id, lexicon);
    }
    // An installed English model replaces Debian's; a French one is heard alongside it.
    return model.locale === 'fr-FR' ? [lexicon, this.cmudict] : [lexicon];
  }
}
