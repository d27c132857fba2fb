import { Decision } from '../../src/directory/decision';
import { DirectoryEntry } from '../../src/directory/entry';
import { DEFAULT_FLOW, FlowAction, FlowContext, FlowEvent, FlowState, initialState, step } from '../../src/attendant/flow';

const entry = (id: string, first: string, last: string, extension: string, department = ''): DirectoryEntry => ({
  id, type: 'person', firstName: first, lastName: last, serviceName: '', department, extension, aliases: [], enabled: true,
});
const paulBakery = entry('p02', 'Paul', 'Martin', '2012', 'Boulangerie');
const paulOptics = entry('p03', 'Paul', 'Martin', '2013', 'Optique');
const sophie = entry('p04', 'Sophie', 'Martin', '2014');

const ctx: FlowContext = { ...DEFAULT_FLOW, operator: '9', extensions: new Map([['2012', paulBakery], ['2013', paulOptics], ['2014', sophie]]) };

const decision = (kind: Decision['kind'], e?: DirectoryEntry, choices: DirectoryEntry[] = []): Decision => ({ kind, entry: e, choices, confidence: 0.9, reason: '' });

/** Runs events from the start; returns the last state and every action in order. */
function play(events: FlowEvent[]): { state: FlowState; actions: FlowAction[] } {
  let state = initialState();
  const actions: FlowAction[] = [];
  for (const event of [{ type: 'start' } as FlowEvent, ...events]) {
    const r = step(state, event, ctx);
    state = r.state;
    actions.push(...r.actions);
  }
  return { state, actions };
}

const transfers = (actions: FlowAction[]): string[] =>
  actions.filter((a): a is Extract<FlowAction, { type: 'transfer' }> => a.type === 'transfer').map((a) => (a.target.operator ? `operator:${a.target.extension}` : a.target.extension));
const prompts = (actions: FlowAction[]): string[] =>
  actions.filter((a): a is Extract<FlowAction, { type: 'play' }> => a.type === 'play').map((a) => a.prompt.key);

describe('call flow', () => {
  it('greets with barge-in allowed and listens for a name', () => {
    const { actions, state } = play([]);
    expect(actions).toEqual([{ type: 'play', prompt: { key: 'greeting' }, bargeIn: true }, { type: 'listen', for: 'name' }]);
    expect(state.phase).toBe('greeting');
  });

  it('stops the greeting when the caller starts speaking (barge-in)', () => {
    const { actions, state } = play([{ type: 'speechStarted' }]);
    expect(actions).toContainEqual({ type: 'stopPrompt' });
    expect(state.phase).toBe('listening');
  });

  const table: [string, FlowEvent[], string[], string, FlowState['outcome']][] = [
    ['a clear match is announced and transferred', [{ type: 'heard', decision: decision('transfer', sophie) }, { type: 'transferred' }], ['2014'], 'greeting,connecting', 'transferred'],
    ['a confirmed match ("yes") is transferred', [{ type: 'heard', decision: decision('confirm', sophie) }, { type: 'answered', answer: { kind: 'yes' } }, { type: 'transferred' }], ['2014'], 'greeting,confirm,connecting', 'transferred'],
    ['a confirmation by keypad 1 is transferred', [{ type: 'heard', decision: decision('confirm', sophie) }, { type: 'digit', digit: '1' }, { type: 'transferred' }], ['2014'], 'greeting,confirm,connecting', 'transferred'],
    ['"no" to a confirmation asks again', [{ type: 'heard', decision: decision('confirm', sophie) }, { type: 'answered', answer: { kind: 'no' } }], [], 'greeting,confirm,retry', undefined],
    ['keypad 2 to a confirmation asks again', [{ type: 'heard', decision: decision('confirm', sophie) }, { type: 'digit', digit: '2' }], [], 'greeting,confirm,retry', undefined],
    ['homonyms are told apart by department', [{ type: 'heard', decision: decision('disambiguate', undefined, [paulBakery, paulOptics]) }, { type: 'answered', answer: { kind: 'choice', index: 1 } }], ['2013'], 'greeting,disambiguate,connecting', undefined],
    ['homonyms are told apart by keypad', [{ type: 'heard', decision: decision('disambiguate', undefined, [paulBakery, paulOptics]) }, { type: 'digit', digit: '1' }], ['2012'], 'greeting,disambiguate,connecting', undefined],
    ['three misses go to the operator', [{ type: 'heard', decision: decision('reprompt') }, { type: 'heard', decision: decision('reprompt') }, { type: 'heard', decision: decision('reprompt') }, { type: 'transferred' }], ['operator:9'], 'greeting,retry,retry,operator', 'operator'],
    ['silence twice then a name still transfers', [{ type: 'promptEnded' }, { type: 'timer', name: 'no-input' }, { type: 'timer', name: 'no-input' }, { type: 'heard', decision: decision('transfer', sophie) }], ['2014'], 'greeting,no-input,no-input,connecting', undefined],
    ['silence three times goes to the operator', [{ type: 'timer', name: 'no-input' }, { type: 'timer', name: 'no-input' }, { type: 'timer', name: 'no-input' }], ['operator:9'], 'greeting,no-input,no-input,operator', undefined],
    ['asking for the operator goes there', [{ type: 'heard', decision: decision('operator') }], ['operator:9'], 'greeting,operator', undefined],
    ['an extension then # transfers to it', [{ type: 'digit', digit: '2' }, { type: 'digit', digit: '0' }, { type: 'digit', digit: '1' }, { type: 'digit', digit: '4' }, { type: 'digit', digit: '#' }], ['2014'], 'greeting,connecting-extension', undefined],
    ['an extension then a pause transfers to it', [{ type: 'digit', digit: '2' }, { type: 'digit', digit: '0' }, { type: 'digit', digit: '1' }, { type: 'digit', digit: '2' }, { type: 'timer', name: 'digits' }], ['2012'], 'greeting,connecting-extension', undefined],
    ['0 is the operator', [{ type: 'digit', digit: '0' }, { type: 'digit', digit: '#' }], ['operator:9'], 'greeting,operator', undefined],
    ['an unknown extension is refused and the caller asked again', [{ type: 'digit', digit: '5' }, { type: 'digit', digit: '5' }, { type: 'digit', digit: '#' }], [], 'greeting,unknown-extension', undefined],
    ['a failed transfer goes to the operator', [{ type: 'heard', decision: decision('transfer', sophie) }, { type: 'transferFailed', reason: '486' }, { type: 'transferred' }], ['2014', 'operator:9'], 'greeting,connecting,transfer-failed', 'operator'],
    ['a failed operator transfer says goodbye and hangs up', [{ type: 'heard', decision: decision('operator') }, { type: 'transferFailed', reason: 'timeout' }, { type: 'promptEnded' }], ['operator:9'], 'greeting,operator,goodbye', 'failed'],
    ['a recognizer failure goes to the operator', [{ type: 'failed', component: 'recognizer', reason: 'worker died' }], ['operator:9'], 'greeting,operator', undefined],
    ['a caller hanging up mid-prompt is abandoned', [{ type: 'hangup' }], [], 'greeting', 'abandoned'],
  ];

  it.each(table)('%s', (_name, events, expectedTransfers, expectedPrompts, outcome) => {
    const { state, actions } = play(events);
    expect(transfers(actions)).toEqual(expectedTransfers);
    expect(prompts(actions).join(',')).toBe(expectedPrompts);
    expect(state.outcome).toBe(outcome);
  });

  it('does not ask again after a transfer has started', () => {
    const { actions } = play([{ type: 'heard', decision: decision('transfer', sophie) }, { type: 'timer', name: 'no-input' }, { type: 'heard', decision: decision('transfer', paulBakery) }, { type: 'digit', digit: '5' }]);
    expect(transfers(actions)).toEqual(['2014']);
  });

  it('hangs up after a transfer is done and records the decision path', () => {
    const { state, actions } = play([{ type: 'heard', decision: decision('confirm', sophie) }, { type: 'answered', answer: { kind: 'yes' } }, { type: 'transferred' }]);
    expect(actions[actions.length - 1]).toEqual({ type: 'hangup' });
    expect(state.path).toEqual(['heard:confirm', 'answer:yes', 'transfer:2014:confirmed']);
    expect(state.phase).toBe('ended');
  });

  it('starts the no-input timer only once a question has been played', () => {
    const before = play([]).actions.filter((a) => a.type === 'setTimer');
    const after = play([{ type: 'promptEnded' }]).actions.filter((a) => a.type === 'setTimer');
    expect(before).toEqual([]);
    expect(after).toEqual([{ type: 'setTimer', name: 'no-input', ms: ctx.noInputMs }]);
  });
});
