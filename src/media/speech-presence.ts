/**
 * Whether an utterance holds speech at all, from its 20 ms frame energies: speech is loud
 * enough somewhere (its loudest tenth of frames above about -61 dBFS) and rises and falls
 * with its syllables, so that its loud frames stand well above its quiet ones. Steady line
 * noise, hum or a held tone does neither, and a grammar search would otherwise find a name
 * in it.
 *
 * The least level is a quiet caller's: real French commands peaking at -40 dBFS have their
 * loudest tenth of frames at -53 to -57 dBFS. At -45 dBFS, as it was, every one of them was
 * heard as nothing; at -61 dBFS, 82 % were heard right (the plain engine: 23 %), and none of
 * the louder ones changed (docs/benchmarks.md). Noise is kept out by the rise and fall.
 */
export const SPEECH_MIN_RMS = 30;
/** dB between the 90th and 10th percentile frame energies below which audio is steady noise. */
export const SPEECH_MIN_SPREAD_DB = 12;

export class SpeechPresence {
  private readonly energies: number[] = [];
  // The frame being filled: sum of squares and sample count.
  private sum = 0;
  private count = 0;

  constructor(private readonly frameSamples = 320) {}

  write(pcm: Int16Array): void {
    for (let i = 0; i < pcm.length; i += 1) {
      this.sum += pcm[i] * pcm[i];
      this.count += 1;
      if (this.count === this.frameSamples) {
        this.energies.push(Math.sqrt(this.sum / this.frameSamples));
        this.sum = 0;
        this.count = 0;
      }
    }
  }

  hasSpeech(): boolean {
    if (!this.loudEnough()) return false;
    const spread = 20 * Math.log10(this.at(0.9) / Math.max(1, this.at(0.1)));
    return spread >= SPEECH_MIN_SPREAD_DB;
  }

  /** Loud enough somewhere to be speech (its loudest tenth of frames), whether or not it rises and falls. */
  loudEnough(): boolean {
    return this.energies.length > 0 && this.at(0.9) >= SPEECH_MIN_RMS;
  }

  private at(q: number): number {
    const sorted = [...this.energies].sort((a, b) => a - b);
    return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  }
}
