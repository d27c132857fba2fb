import { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';
import { Logger } from 'pino';
import { Cmudict } from '../asr/lexicon';
import { RecognitionCancelled, RecognitionResult, Recognizer } from '../asr/recognizer';
import { Store } from '../directory/directory-store';
import { DirectoryEntry, displayName } from '../directory/entry';
import { Endpointer } from '../media/endpointer';
import { PromptLibrary, Prompt } from '../media/prompts';
import { resample } from '../media/resample';
import { RtpSession } from '../media/rtp';
import { TransferRequest, TransferResult, Transferrer } from '../pbx/transfer';
import { Dialog } from '../sip/dialog';
import { formatSdp, LocalMedia, Negotiated, rtpRemote } from '../sip/sdp';
import { agreedAnswer, AnswerGrammar, choiceAnswers, confirmAnswers, hearConfirmation } from './answers';
import { CallOutcome, CallRecord } from './call-records';
import { Answer, DEFAULT_FLOW, FlowAction, FlowContext, FlowEvent, FlowState, initialState, Listening, step, TimerName } from './flow';
import { decodeAll, hearUtterance, StoreUnderstanding, Understanding } from './understanding';

/**
 * The imperative shell of one call: runs the pure flow (flow.ts) against real parts:
 * prompts over RTP, the endpointer, the recognizer pool, the transfer, and the call record.
 * Everything it opens is closed in one close(), whatever ended the call.
 */

export interface CallParts {
  callId: string;
  store: Store;
  understanding: StoreUnderstanding;
  recognizer: Recognizer;
  confirm: AnswerGrammar;
  cmudict: Cmudict;
  prompts: PromptLibrary;
  storeDir: string;
  rtp: RtpSession;
  dialog: Dialog;
  transferrer: Transferrer;
  pbxHost: string;
  caller: string;
  log: Logger;
  /** Our SDP origin and media address, for re-INVITE answers. */
  localMedia: LocalMedia;
  flow?: Partial<Omit<FlowContext, 'operator' | 'extensions'>>;
}

export interface CallSessionEvents {
  /** The call is over and its record is final. */
  ended: [record: CallRecord];
  /** A transfer was requested: how long after the end of speech (ms), for the metrics. */
  decided: [ms: number];
  /** An utterance heard early was taken at its end (true), or given up (false). */
  early: [taken: boolean];
}

/** What an utterance was heard as: a name, or an answer to a question. */
type Heard =
  | { listening: 'name'; understood: Understanding; results: RecognitionResult[]; shed: boolean; heardAgain: boolean }
  | { listening: 'answer'; answer: Answer; results: RecognitionResult[] };

/**
 * An utterance heard early: as the endpointer settled it, before its end was decided
 * (Endpointer `settled`). It is taken when the same utterance ends in the same state of the
 * call, and given up otherwise (its decodes are cancelled where they have not run).
 */
interface EarlyHearing {
  pcm8k: Int16Array;
  state: FlowState;
  heard: Promise<Heard>;
  abort: AbortController;
  /** When it started (performance.now()): the log's `early` is how long before the end. */
  at: number;
}

/** Disambiguation grammars (one per model), by the models and the choices, shared by calls. */
const choiceGrammars = new Map<string, Promise<AnswerGrammar[]>>();

export class CallSession extends EventEmitter<CallSessionEvents> {
  private state: FlowState = initialState();
  private readonly ctx: FlowContext;
  private readonly endpointer = new Endpointer();
  private readonly timers = new Map<TimerName, NodeJS.Timeout>();
  private listening?: Listening;
  private recognizing = false;
  private early?: EarlyHearing;
  private playId = 0;
  private lastSpeechEndAt?: number;
  private decisionMs = -1;
  private readonly transcripts: string[] = [];
  private readonly startedAt = new Date();
  private readonly t0 = performance.now();
  private closed = false;
  private transferReason = '';
  private transferring?: Promise<void>;

  constructor(private readonly parts: CallParts) {
    super();
    const extensions = new Map<string, DirectoryEntry>();
    for (const e of parts.understanding.snapshot.entries) if (e.enabled && !extensions.has(e.extension)) extensions.set(e.extension, e);
    const directory = parts.understanding.snapshot.entries.filter((e) => e.enabled);
    this.ctx = { ...DEFAULT_FLOW, directory, ...parts.flow, operator: parts.store.operator, extensions };
    const { rtp, dialog } = parts;
    rtp.on('frame', (frame) => this.endpointer.write(frame));
    rtp.on('dtmf', (digit) => this.dispatch({ type: 'digit', digit }));
    rtp.on('timeout', () => {
      // While attendant thinks or transfers, a caller's phone may send nothing (DTX): that is not a dead line.
      if (this.recognizing || this.state.phase === 'transferring') return;
      parts.log.warn('no RTP from the caller for 15 s; hanging up');
      this.dispatch({ type: 'hangup' });
      void dialog.bye('no RTP');
    });
    this.endpointer.on('speechStart', () => this.dispatch({ type: 'speechStarted' }));
    this.endpointer.on('settled', (pcm) => this.onSettled(pcm));
    this.endpointer.on('unsettled', () => this.giveUpEarly());
    this.endpointer.on('utterance', (pcm, info) => this.onUtterance(pcm, info.endedAt));
    dialog.on('terminated', (reason) => {
      parts.log.info({ reason }, 'dialog ended');
      // A PBX that completes a REFER may hang up before its last NOTIFY: let the transfer settle first.
      if (this.transferring !== undefined) void this.transferring.then(() => this.dispatch({ type: 'hangup' }));
      else this.dispatch({ type: 'hangup' });
    });
  }

  get callId(): string {
    return this.parts.callId;
  }

  get phase(): string {
    return this.state.phase;
  }

  start(): void {
    this.parts.log.info({ directory_version: this.parts.understanding.snapshot.version, codec: this.parts.rtp.codec }, 'call answered');
    this.dispatch({ type: 'start' });
  }

  /**
   * A re-INVITE's offer, negotiated: hold (the caller sends `sendonly`/`inactive`) pauses
   * our audio and the no-RTP timeout; unhold resumes. Returns our answer.
   */
  reoffer(negotiated: Negotiated): string {
    const { rtp, localMedia, log } = this.parts;
    rtp.configure(rtpRemote(negotiated), negotiated.direction);
    localMedia.sessionVersion += 1;
    log.info({ direction: negotiated.direction, held: rtp.held }, 're-INVITE');
    return formatSdp(
      { ...localMedia, port: rtp.port },
      [{ codec: negotiated.codec, payloadType: negotiated.payloadType }],
      negotiated.dtmfPayloadType,
      negotiated.direction,
    );
  }

  /** A digit from a SIP INFO (some PBXs send keypad presses that way). */
  digit(digit: string): void {
    this.dispatch({ type: 'digit', digit });
  }

  dispatch(event: FlowEvent): void {
    if (this.closed) return;
    const { state, actions } = step(this.state, event, this.ctx);
    if (state.path.length > this.state.path.length)
      this.parts.log.info({ step: state.path.slice(this.state.path.length), phase: state.phase }, 'call flow');
    this.state = state;
    for (const action of actions) this.run(action);
    if (this.state.phase === 'ended') this.close();
  }

  private run(action: FlowAction): void {
    switch (action.type) {
      case 'play':
        this.play(action.prompt);
        break;
      case 'stopPrompt':
        this.playId += 1;
        this.endpointer.playing = false;
        this.parts.rtp.stopPlayback();
        break;
      case 'listen':
        this.giveUpEarly();
        this.listening = action.for;
        this.endpointer.reset();
        break;
      case 'stopListening':
        this.giveUpEarly();
        this.listening = undefined;
        break;
      case 'setTimer': {
        this.clearTimer(action.name);
        const name = action.name;
        this.timers.set(
          name,
          setTimeout(() => {
            this.timers.delete(name);
            this.dispatch({ type: 'timer', name });
          }, action.ms),
        );
        break;
      }
      case 'clearTimer':
        this.clearTimer(action.name);
        break;
      case 'transfer': {
        const pending = this.transfer(action.target.extension, action.target.entry);
        this.transferring = pending;
        void pending.finally(() => {
          if (this.transferring === pending) this.transferring = undefined;
        });
        break;
      }
      case 'hangup':
        void this.parts.dialog.bye('attendant hung up');
        break;
    }
  }

  private clearTimer(name: TimerName): void {
    const timer = this.timers.get(name);
    if (timer !== undefined) clearTimeout(timer);
    this.timers.delete(name);
  }

  private play(prompt: Prompt): void {
    this.playId += 1;
    const id = this.playId;
    this.parts.rtp.stopPlayback();
    // Nothing plays until this prompt is made (a prompt that cannot be made plays nothing).
    this.endpointer.playing = false;
    this.parts.prompts
      .render(prompt, this.parts.store.locale, this.parts.storeDir)
      .then(async (pcm) => {
        if (id !== this.playId || this.closed) return;
        // The caller must speak up over the prompt's echo while it plays (Endpointer.minLevel).
        this.endpointer.playing = true;
        const completed = await this.parts.rtp.play(pcm);
        if (id === this.playId) this.endpointer.playing = false;
        if (completed && id === this.playId) this.dispatch({ type: 'promptEnded' });
      })
      .catch((err: Error) => {
        // A prompt that cannot be made must not stall the call: carry on as if it was played.
        this.parts.log.error({ prompt: prompt.key, err }, 'prompt could not be played');
        if (id === this.playId) this.dispatch({ type: 'promptEnded' });
      });
  }

  /** The utterance as it will end if the caller stays quiet: heard now, taken at its end (onUtterance). */
  private onSettled(pcm8k: Int16Array): void {
    this.giveUpEarly();
    const listening = this.listening;
    if (listening === undefined || this.recognizing || this.closed) return;
    const abort = new AbortController();
    const heard = this.hear(listening, pcm8k, abort.signal);
    // Its failure is the call's only if it is taken.
    heard.catch(() => undefined);
    this.early = { pcm8k, state: this.state, heard, abort, at: performance.now() };
  }

  private giveUpEarly(): void {
    if (this.early === undefined) return;
    this.early.abort.abort();
    this.early = undefined;
    this.emit('early', false);
  }

  private onUtterance(pcm8k: Int16Array, endedAt: number): void {
    const early = this.early;
    this.early = undefined;
    const listening = this.listening;
    const heeded = listening !== undefined && !this.recognizing && !this.closed;
    const taken = heeded && early !== undefined && early.state === this.state && samePcm(early.pcm8k, pcm8k) ? early : undefined;
    if (early !== undefined) {
      if (taken === undefined) early.abort.abort();
      this.emit('early', taken !== undefined);
    }
    if (!heeded) return;
    this.recognizing = true;
    const speechEndAt = performance.now() - (Date.now() - endedAt);
    (taken?.heard ?? this.hear(listening, pcm8k))
      .then((heard) => {
        if (this.closed) return;
        const heardMs = Math.round(performance.now() - speechEndAt);
        const early = taken === undefined ? undefined : Math.round(speechEndAt - taken.at);
        if (heard.listening === 'name') {
          const { understood, results, shed, heardAgain } = heard;
          if (this.parts.store.transcripts) this.transcripts.push(understood.transcript);
          this.parts.log.info(
            {
              decision: understood.decision.kind,
              confidence: round(understood.decision.confidence),
              entry: understood.decision.entry?.id,
              audio_ms: results[0]?.audioMs,
              models: understood.models?.map((m) => `${m.model}:${m.top?.entry.id ?? '-'}`),
              shed: shed || undefined,
              // The names the models disagreed on were searched again (crossHear).
              heard_again: heardAgain || undefined,
              early,
              heard_ms: heardMs,
            },
            'heard a name',
          );
          this.dispatchHeard({ type: 'heard', decision: understood.decision }, speechEndAt);
        } else {
          const { answer, results } = heard;
          if (this.parts.store.transcripts) this.transcripts.push(results[0]?.nbest[0]?.text ?? '');
          this.parts.log.info(
            { answer: answer.kind, models: results.length > 1 ? results.length : undefined, early, heard_ms: heardMs },
            'heard an answer',
          );
          this.dispatchHeard({ type: 'answered', answer }, speechEndAt);
        }
      })
      .catch((err: Error) => {
        this.parts.log.error({ err }, 'recognition failed; sending the caller to the operator');
        this.dispatch({ type: 'failed', component: 'recognizer', reason: err.message });
      })
      .finally(() => {
        this.recognizing = false;
      });
  }

  /** One utterance heard for what the call listens for; `signal` gives it up (RecognitionCancelled). */
  private async hear(listening: Listening, pcm8k: Int16Array, signal?: AbortSignal): Promise<Heard> {
    const pcm16k = resample(pcm8k, 8000, 16000);
    if (listening === 'name') {
      const { understood, results, shed, cross } = await hearUtterance(
        this.parts.recognizer,
        this.parts.understanding,
        (send) => send(pcm16k),
        undefined,
        signal,
      );
      return { listening, understood, results, shed, heardAgain: cross !== undefined };
    }
    return { listening, ...(await this.hearAnswer(pcm16k, signal)) };
  }

  /** What was heard goes to the flow; a transfer it decides on is timed from this end of speech. */
  private dispatchHeard(event: FlowEvent, speechEndAt: number): void {
    this.lastSpeechEndAt = speechEndAt;
    try {
      this.dispatch(event);
    } finally {
      this.lastSpeechEndAt = undefined;
    }
  }

  /**
   * An answer: yes or no to a confirmation, or a choice, heard by each model the store is
   * heard with and taken where they agree (confirmedAnswer, agreedAnswer).
   */
  private async hearAnswer(pcm16k: Int16Array, signal?: AbortSignal): Promise<{ answer: Answer; results: RecognitionResult[] }> {
    const disambiguating = this.state.phase === 'disambiguating';
    const grammars = await this.answerGrammars();
    if (signal?.aborted === true) throw new RecognitionCancelled();
    if (!disambiguating) return hearConfirmation(this.parts.recognizer, grammars, pcm16k, signal);
    // A short utterance: whole, both models on one worker (the worker of answers, when there is one).
    const results = await decodeAll(
      this.parts.recognizer,
      grammars.map((g) => g.grammar),
      (send) => send(pcm16k),
      undefined,
      { together: true, signal },
    );
    const heard = grammars.map((g, i) => g.hear(results[i]));
    return { answer: agreedAnswer(heard), results };
  }

  private answerGrammars(): Promise<AnswerGrammar[]> {
    const lexicons = this.parts.understanding.lexicons.length > 0 ? this.parts.understanding.lexicons : [this.parts.cmudict];
    if (this.state.phase !== 'disambiguating') {
      // A store heard by one model: the US English grammar made at start; by two, each model's.
      if (lexicons.length < 2) return Promise.resolve([this.parts.confirm]);
      const key = `confirm/${lexicons.map((l) => l.model).join('+')}`;
      let grammars = choiceGrammars.get(key);
      if (grammars === undefined) {
        grammars = Promise.all(lexicons.map((l) => confirmAnswers(l)));
        grammars.catch(() => choiceGrammars.delete(key));
        choiceGrammars.set(key, grammars);
      }
      return grammars;
    }
    // What the grammar holds: each choice's name and department (an entry renamed keeps its id).
    const key = `${lexicons.map((l) => l.model).join('+')}/${this.state.choices.map((c) => `${c.id}:${displayName(c)}:${c.department}`).join('|')}`;
    let grammars = choiceGrammars.get(key);
    if (grammars === undefined) {
      const choices = this.state.choices;
      grammars = Promise.all(lexicons.map((l) => choiceAnswers(choices, l)));
      grammars.catch(() => choiceGrammars.delete(key));
      choiceGrammars.set(key, grammars);
      if (choiceGrammars.size > 500) choiceGrammars.delete(choiceGrammars.keys().next().value as string);
    }
    return grammars;
  }

  private transferRequest(extension: string, entry?: DirectoryEntry): TransferRequest {
    const { parts } = this;
    return {
      store: parts.store.id,
      callId: parts.callId,
      sipCallId: parts.dialog.callId,
      extension,
      name: entry === undefined ? undefined : displayName(entry),
      caller: parts.caller,
      dialog: parts.dialog,
      pbxHost: parts.pbxHost,
      hooks: parts.store.hooks,
    };
  }

  private async transfer(extension: string, entry?: DirectoryEntry): Promise<void> {
    const { parts } = this;
    if (this.lastSpeechEndAt !== undefined && this.decisionMs < 0) {
      this.decisionMs = performance.now() - this.lastSpeechEndAt;
      this.emit('decided', this.decisionMs);
    }
    parts.log.info({ extension, entry: entry?.id, mode: parts.transferrer.mode, decision_ms: Math.round(this.decisionMs) }, 'transferring');
    let result: TransferResult;
    try {
      result = await parts.transferrer.transfer(this.transferRequest(extension, entry));
    } catch (err) {
      result = { ok: false, reason: `transfer error: ${(err as Error).message}` };
    }
    this.transferReason = result.reason;
    if (result.ok) {
      parts.log.info({ extension, reason: result.reason }, 'transferred');
      this.dispatch({ type: 'transferred' });
    } else {
      parts.log.warn({ extension, reason: result.reason }, 'transfer failed');
      this.dispatch({ type: 'transferFailed', reason: result.reason });
    }
  }

  /**
   * The service is stopping and this call is still up: the caller is sent to the operator
   * (REFER or the PBX hook), or, when that fails, hung up with a BYE; never just dropped.
   * Each step waits at most `stepMs`. The record says what happened ("shutdown").
   */
  async shutdown(stepMs = 3000): Promise<void> {
    if (this.closed) return;
    const within = <T>(p: Promise<T>): Promise<T | undefined> =>
      Promise.race([p, new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), stepMs).unref())]);
    if (this.transferring !== undefined) await within(this.transferring);
    if (this.closed) return;
    const { parts } = this;
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    this.playId += 1;
    parts.rtp.stopPlayback();
    const operator = parts.store.operator;
    parts.log.info({ extension: operator }, 'service stopping: sending the caller to the operator');
    let transferred = false;
    if (parts.dialog.state !== 'terminated') {
      try {
        const result = await within(parts.transferrer.transfer(this.transferRequest(operator)));
        transferred = result?.ok === true;
        this.transferReason = `shutdown: ${result?.reason ?? 'no answer to the transfer in time'}`;
      } catch (err) {
        this.transferReason = `shutdown: ${(err as Error).message}`;
      }
    }
    // Recorded before the BYE, whose end of dialog closes the call.
    this.state = {
      ...this.state,
      phase: 'ended',
      outcome: transferred ? 'operator' : 'failed',
      target: transferred ? { extension: operator, operator: true, via: 'shutdown' } : this.state.target,
      path: [...this.state.path, transferred ? `shutdown:${operator}` : 'shutdown:bye'],
    };
    // Either way the dialog ends with our BYE before the service closes its SIP transport.
    if (parts.dialog.state !== 'terminated')
      await within(parts.dialog.bye(transferred ? 'sent to the operator: service stopping' : 'service stopping'));
    this.close();
  }

  /** Ends the call: timers, prompt, RTP, record. Safe to call more than once. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    this.giveUpEarly();
    this.endpointer.removeAllListeners();
    this.parts.rtp.close();
    if (this.parts.dialog.state !== 'terminated') void this.parts.dialog.bye('call closed');
    const outcome: CallOutcome = this.state.outcome ?? 'abandoned';
    const target = this.state.target;
    const record: CallRecord = {
      callId: this.parts.callId,
      store: this.parts.store.id,
      sipCallId: this.parts.dialog.callId,
      startedAt: this.startedAt.toISOString(),
      endedAt: new Date().toISOString(),
      outcome,
      extension: outcome === 'transferred' || outcome === 'operator' ? (target?.extension ?? '') : '',
      entryId: outcome === 'transferred' ? (target?.entry?.id ?? '') : '',
      path: this.state.path,
      durationMs: Math.round(performance.now() - this.t0),
      decisionMs: Math.round(this.decisionMs),
      transcripts: this.transcripts,
      transfer: this.parts.transferrer.mode,
      reason: this.transferReason,
    };
    this.parts.log.info(
      { outcome, extension: record.extension, duration_ms: record.durationMs, decision_ms: record.decisionMs, path: record.path },
      'call ended',
    );
    this.emit('ended', record);
  }
}

const round = (x: number): number => Math.round(x * 100) / 100;

function samePcm(a: Int16Array, b: Int16Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i += 1) if (a[i] !== b[i]) return false;
  return true;
}
