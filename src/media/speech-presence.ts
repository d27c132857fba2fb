/**
 * Whether an utterance holds speech at all, from its 20 ms frame energies: speech is loud
 * enough somewhere (above about -45 dBFS) and rises and falls with its syllables, so that
 * its loud frames stand well above its quiet ones. Steady line noise, hum or a held tone
 * does neither, and a grammar search would otherwise find a name in it.
 */
export const SPEECH_MIN_RMS = 180;
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
    if (this.energies.length === 0) return false;
    const sorted = [...this.energies].sort((a, b) => a - b);
    const at = (q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
    const loud = at(0.9);
    if (loud < SPEECH_MIN_RMS) return false;
    const spread = 20 * Math.log10(loud / Math.max(1, at(0.1)));
    return spread >= SPEECH_MIN_SPREAD_DB;
  }
}
