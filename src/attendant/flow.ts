import { Decision, MAX_CHOICES } from '../directory/decision';
import { DirectoryEntry, normalizeText, spokenName } from '../directory/entry';
import { Prompt } from '../media/prompts';

/**
 * The call flow (DESIGN.md, "Call flow") as a pure function: (state, event) → (state,
 * actions). No timers, sockets or audio in here: the shell (call-session.ts) plays the
 * prompts, runs the timers, recognizes and transfers, and feeds what happened back in.
 *
 * greet (barge-in) → listen → decide → transfer | confirm | disambiguate | reprompt (≤ 2) | operator.
 * DTMF at any time: an extension then # (or a pause) transfers to it; 0 is the operator;
 * * spells a last name on the keypad (dial-by-name, 2=ABC … 9=WXYZ), which is also offered
 * once when the caller's names were not understood.
 */

export interface FlowContext {
  /** The store's operator extension. */
  operator: string;
  /** Enabled directory entries by extension, for dial-by-extension. */
  extensions: ReadonlyMap<string, DirectoryEntry>;
  maxRetries: number;
  /** Silence after a question before it counts as no answer. */
  noInputMs: number;
  /** Pause after the last digit before the digits are taken as an extension. */
  digitPauseMs: number;
  /** Enabled entries, for dial-by-name; none: dial-by-name is not offered. */
  directory?: readonly DirectoryEntry[];
}

export const DEFAULT_FLOW: Omit<FlowContext, 'operator' | 'extensions'> = { maxRetries: 2, noInputMs: 6000, digitPauseMs: 3000 };

export type Phase = 'greeting' | 'listening' | 'confirming' | 'disambiguating' | 'spelling' | 'transferring' | 'closing' | 'ended';

export type Outcome = 'transferred' | 'operator' | 'abandoned' | 'failed';

export interface TransferTarget {
  extension: string;
  entry?: DirectoryEntry;
  operator: boolean;
  /** How the target was chosen: speech, confirmed, chosen, keypad, asked, retries, failure. */
  via: string;
}

export interface FlowState {
  phase: Phase;
  retries: number;
  digits: string;
  pending?: DirectoryEntry;
  choices: DirectoryEntry[];
  target?: TransferTarget;
  outcome?: Outcome;
  /** The decision path, for the call record: "heard:confirm", "answer:yes", "transfer:2012"... */
  path: string[];
  /** Keys typed for a name (dial-by-name), and whether dial-by-name was offered already. */
  spelling?: string;
  spellingOffered?: boolean;
  /** The choices are taken from the keypad alone (Decision.keysOnly). */
  keysOnly?: boolean;
  /** The choices were read again once after an unclear answer ("oui" to "A, ou B ?"). */
  choicesReadAgain?: boolean;
}

export type Answer = { kind: 'yes' } | { kind: 'no' } | { kind: 'choice'; index: number } | { kind: 'unclear' };

export type TimerName = 'no-input' | 'digits';

export type FlowEvent =
  | { type: 'start' }
  | { type: 'promptEnded' }
  | { type: 'speechStarted' }
  | { type: 'heard'; decision: Decision }
  | { type: 'answered'; answer: Answer }
  | { type: 'digit'; digit: string }
  | { type: 'timer'; name: TimerName }
  | { type: 'transferred' }
  | { type: 'transferFailed'; reason: string }
  | { type: 'failed'; component: string; reason: string }
  | { type: 'hangup' };

/** What the next utterance is heard as: a name from the directory, or an answer to a question. */
export type Listening = 'name' | 'answer';

export type FlowAction =
  | { type: 'play'; prompt: Prompt; bargeIn: boolean }
  | { type: 'stopPrompt' }
  | { type: 'listen'; for: Listening }
  | { type: 'stopListening' }
  | { type: 'setTimer'; name: TimerName; ms: number }
  | { type: 'clearTimer'; name: TimerName }
  | { type: 'transfer'; target: TransferTarget }
  | { type: 'hangup' };

export function initialState(): FlowState {
  return { phase: 'greeting', retries: 0, digits: '', choices: [], path: [] };
}

const ASKING: Phase[] = ['greeting', 'listening', 'confirming', 'disambiguating', 'spelling'];

/** The keypad's letters (ITU E.161): 2=ABC, 3=DEF … 9=WXYZ. */
const KEYS: Record<string, string> = {
  a: '2',
  b: '2',
  c: '2',
  d: '3',
  e: '3',
  f: '3',
  g: '4',
  h: '4',
  i: '4',
  j: '5',
  k: '5',
  l: '5',
  m: '6',
  n: '6',
  o: '6',
  p: '7',
  q: '7',
  r: '7',
  s: '7',
  t: '8',
  u: '8',
  v: '8',
  w: '9',
  x: '9',
  y: '9',
  z: '9',
};

/** A name as keypad digits, accents folded and spaces, hyphens and apostrophes dropped ("Le Goff" → 534633). */
export function keypadDigits(name: string): string {
  return normalizeText(name)
    .split('')
    .map((c) => KEYS[c] ?? (/[0-9]/.test(c) ? c : ''))
    .join('');
}

/** Entries whose last name (a service: its name), whole or any of its words, starts with `keys`. */
export function spelledMatches(directory: readonly DirectoryEntry[], keys: string): DirectoryEntry[] {
  return directory.filter((e) => {
    const name = e.type === 'service' ? e.serviceName : e.lastName;
    return [name, ...normalizeText(name).split(' ')].some((part) => keypadDigits(part).startsWith(keys));
  });
}

/** At most this many matches are read back; more ask for another letter. */
const SPELL_CHOICES = 3;

export function step(state: FlowState, event: FlowEvent, ctx: FlowContext): { state: FlowState; actions: FlowAction[] } {
  const s: FlowState = { ...state, path: [...state.path], choices: [...state.choices] };
  const actions: FlowAction[] = [];
  const asking = ASKING.includes(s.phase);

  const transferTo = (target: TransferTarget, prompt: Prompt): void => {
    s.phase = 'transferring';
    s.target = target;
    s.digits = '';
    s.path.push(`transfer:${target.operator ? 'operator' : target.extension}:${target.via}`);
    actions.push(
      { type: 'clearTimer', name: 'no-input' },
      { type: 'clearTimer', name: 'digits' },
      { type: 'stopListening' },
      { type: 'play', prompt, bargeIn: false },
      { type: 'transfer', target },
    );
  };
  const toEntry = (entry: DirectoryEntry, via: string): void =>
    transferTo({ extension: entry.extension, entry, operator: false, via }, { key: 'connecting', name: spokenName(entry) });
  const toOperator = (via: string, prompt: Prompt = { key: 'operator' }): void =>
    transferTo({ extension: ctx.operator, operator: true, via }, prompt);
  const ask = (phase: Phase, prompt: Prompt, listening: Listening): void => {
    s.phase = phase;
    actions.push({ type: 'clearTimer', name: 'no-input' }, { type: 'play', prompt, bargeIn: true }, { type: 'listen', for: listening });
  };
  const askChoice = (again: boolean): void =>
    ask(
      'disambiguating',
      {
        key: 'disambiguate',
        choices: s.choices.map((e) => ({ name: spokenName(e), department: e.department })),
        again,
        ...(s.keysOnly === true ? { keysOnly: true } : {}),
      },
      'answer',
    );
  const retry = (key: 'retry' | 'no-input' | 'unknown-extension'): void => {
    s.retries += 1;
    s.pending = undefined;
    s.choices = [];
    s.keysOnly = undefined;
    if (s.retries > ctx.maxRetries) {
      // Names were heard but not understood: the keypad may do better, once.
      if (key === 'retry' && !s.spellingOffered && (ctx.directory?.length ?? 0) > 0) {
        s.path.push('spell:offered');
        startSpelling();
        return;
      }
      s.path.push('retries-exhausted');
      toOperator('retries');
      return;
    }
    ask('listening', { key }, 'name');
  };
  function startSpelling(): void {
    s.phase = 'spelling';
    s.spelling = '';
    s.spellingOffered = true;
    s.digits = '';
    s.pending = undefined;
    s.choices = [];
    s.keysOnly = undefined;
    actions.push(
      { type: 'clearTimer', name: 'no-input' },
      { type: 'clearTimer', name: 'digits' },
      { type: 'stopListening' },
      { type: 'play', prompt: { key: 'spell' }, bargeIn: true },
    );
  }
  /** The keys typed so far, after a pause or #: read back up to three names, ask for more, or give up. */
  const submitSpelling = (): void => {
    const keys = s.spelling ?? '';
    actions.push({ type: 'clearTimer', name: 'digits' });
    if (keys === '') return;
    const matches = spelledMatches(ctx.directory ?? [], keys);
    s.path.push(`spell:${keys}:${matches.length}`);
    if (matches.length === 0) {
      s.spelling = undefined;
      if (s.retries > ctx.maxRetries) toOperator('spelling');
      else ask('listening', { key: 'spell-none' }, 'name');
    } else if (matches.length <= SPELL_CHOICES) {
      s.spelling = undefined;
      s.choices = matches;
      s.choicesReadAgain = true; // typed, not said: an unclear spoken answer goes back to the name
      ask(
        'disambiguating',
        { key: 'spell-choices', choices: matches.map((e) => ({ name: spokenName(e), department: e.department })) },
        'answer',
      );
    } else {
      actions.push({ type: 'play', prompt: { key: 'spell-more', count: matches.length }, bargeIn: true });
    }
  };
  const submitDigits = (): void => {
    const digits = s.digits;
    s.digits = '';
    actions.push({ type: 'clearTimer', name: 'digits' });
    if (digits === '') return;
    s.path.push(`keypad:${digits}`);
    if (digits === '0' || digits === ctx.operator) {
      toOperator('keypad');
      return;
    }
    const entry = ctx.extensions.get(digits);
    if (entry !== undefined) {
      transferTo(
        { extension: entry.extension, entry, operator: false, via: 'keypad' },
        { key: 'connecting-extension', extension: entry.extension },
      );
      return;
    }
    retry('unknown-extension');
  };

  switch (event.type) {
    case 'start':
      // A store whose directory is empty (new, or every entry disabled) has no one to find: the operator.
      if (ctx.extensions.size === 0) {
        toOperator('empty-directory');
        break;
      }
      s.phase = 'greeting';
      actions.push({ type: 'play', prompt: { key: 'greeting' }, bargeIn: true }, { type: 'listen', for: 'name' });
      break;

    case 'promptEnded':
      if (asking) actions.push({ type: 'setTimer', name: 'no-input', ms: ctx.noInputMs });
      else if (s.phase === 'closing') {
        s.phase = 'ended';
        actions.push({ type: 'hangup' });
      }
      break;

    case 'speechStarted':
      if (!asking) break;
      if (s.phase === 'greeting') s.phase = 'listening';
      actions.push({ type: 'stopPrompt' }, { type: 'clearTimer', name: 'no-input' });
      break;

    case 'heard': {
      if (s.phase !== 'greeting' && s.phase !== 'listening') break;
      const d = event.decision;
      s.path.push(`heard:${d.kind}`);
      if (d.kind === 'transfer' && d.entry !== undefined) toEntry(d.entry, 'speech');
      else if (d.kind === 'confirm' && d.entry !== undefined) {
        s.pending = d.entry;
        ask('confirming', { key: 'confirm', name: spokenName(d.entry) }, 'answer');
      } else if (d.kind === 'disambiguate' && d.choices.length > 1) {
        s.choices = d.choices.slice(0, MAX_CHOICES);
        s.choicesReadAgain = false;
        s.keysOnly = d.keysOnly === true ? true : undefined;
        askChoice(false);
      } else if (d.kind === 'operator') toOperator('asked');
      else retry('retry');
      break;
    }

    case 'answered': {
      const a = event.answer;
      if (s.phase === 'confirming' && s.pending !== undefined) {
        s.path.push(`answer:${a.kind}`);
        if (a.kind === 'yes') toEntry(s.pending, 'confirmed');
        else retry('retry');
      } else if (s.phase === 'disambiguating') {
        s.path.push(a.kind === 'choice' ? `answer:choice-${a.index + 1}` : `answer:${a.kind}`);
        // A choice offered on the keypad alone is not taken by voice: the choices are read again, once.
        const spokenChoice = a.kind === 'choice' && s.keysOnly === true;
        const chosen = a.kind === 'choice' && !spokenChoice ? s.choices[a.index] : undefined;
        if (chosen !== undefined) toEntry(chosen, 'chosen');
        else if ((a.kind === 'unclear' || spokenChoice) && s.choicesReadAgain !== true) {
          // "Oui", or an answer not heard well: the choices are read again, once, rather
          // than the caller sent back to the name they already said.
          s.choicesReadAgain = true;
          askChoice(true);
        } else retry('retry');
      }
      break;
    }

    case 'digit': {
      if (!asking) break;
      actions.push({ type: 'stopPrompt' }, { type: 'clearTimer', name: 'no-input' });
      if (s.phase === 'greeting') s.phase = 'listening';
      const d = event.digit;
      if (s.digits === '' && s.phase === 'confirming' && s.pending !== undefined && (d === '1' || d === '2')) {
        s.path.push(`answer:${d === '1' ? 'yes' : 'no'}:keypad`);
        if (d === '1') toEntry(s.pending, 'confirmed');
        else retry('retry');
        break;
      }
      if (s.phase === 'spelling') {
        if (d === '0') toOperator('keypad');
        else if (d === '*') startSpelling();
        else if (d === '#') submitSpelling();
        else if (/^[2-9]$/.test(d)) {
          // Read back after a pause or #, never mid-typing: a caller who goes on typing the
          // name after it became unique would otherwise dial the rest as an extension.
          s.spelling = `${s.spelling ?? ''}${d}`;
          actions.push({ type: 'setTimer', name: 'digits', ms: ctx.digitPauseMs });
        }
        break;
      }
      if (d === '*' && s.digits === '' && (ctx.directory?.length ?? 0) > 0) {
        s.path.push('spell:asked');
        startSpelling();
        break;
      }
      if (s.digits === '' && s.phase === 'disambiguating' && /^[1-9]$/.test(d) && Number(d) <= s.choices.length) {
        s.path.push(`answer:choice-${d}:keypad`);
        toEntry(s.choices[Number(d) - 1], 'chosen');
        break;
      }
      if (d === '#') submitDigits();
      else if (/^[0-9]$/.test(d)) {
        s.digits += d;
        if (s.digits.length >= 15) submitDigits();
        else actions.push({ type: 'setTimer', name: 'digits', ms: ctx.digitPauseMs });
      }
      break;
    }

    case 'timer':
      if (!asking) break;
      if (event.name === 'digits') {
        if (s.phase === 'spelling') submitSpelling();
        else submitDigits();
      } else if (s.phase === 'spelling') {
        s.path.push('no-input');
        s.spelling = undefined;
        toOperator('spelling');
      } else if (s.digits === '') {
        s.path.push('no-input');
        retry('no-input');
      }
      break;

    case 'transferred':
      if (s.phase !== 'transferring') break;
      s.phase = 'ended';
      s.outcome = s.target?.operator === true ? 'operator' : 'transferred';
      actions.push({ type: 'hangup' });
      break;

    case 'transferFailed':
      if (s.phase !== 'transferring') break;
      s.path.push('transfer-failed');
      if (s.target?.operator === false) toOperator('failure', { key: 'transfer-failed' });
      else {
        // Even the operator cannot be reached: say so, then hang up.
        s.phase = 'closing';
        s.outcome = 'failed';
        actions.push({ type: 'play', prompt: { key: 'goodbye' }, bargeIn: false });
      }
      break;

    case 'failed':
      s.path.push(`failed:${event.component}`);
      if (asking) toOperator('failure');
      break;

    case 'hangup':
      if (s.phase !== 'ended') {
        s.outcome ??= s.phase === 'closing' ? 'failed' : 'abandoned';
        s.phase = 'ended';
        actions.push(
          { type: 'clearTimer', name: 'no-input' },
          { type: 'clearTimer', name: 'digits' },
          { type: 'stopListening' },
          { type: 'stopPrompt' },
        );
      }
      break;
  }
  return { state: s, actions };
}
