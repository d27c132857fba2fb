import { Decision } from '../../src/directory/decision';
import { DirectoryEntry } from '../../src/directory/entry';
import {
  DEFAULT_FLOW,
  FlowAction,
  FlowContext,
  FlowEvent,
  FlowState,
  initialState,
  keypadDigits,
  spelledMatches,
  step,
} from '../../src/attendant/flow';
import { promptText } from '../../src/media/prompts';

const entry = (id: string, first: string, last: string, extension: string, department = ''): DirectoryEntry => ({
  id,
  type: 'person',
  firstName: first,
  lastName: last,
  serviceName: '',
  department,
  extension,
  aliases: [],
  enabled: true,
});
const paulBakery = entry('p02', 'Paul', 'Martin', '2012', 'Boulangerie');
const paulOptics = entry('p03', 'Paul', 'Martin', '2013', 'Optique');
const sophie = entry('p04', 'Sophie', 'Martin', '2014');

const ctx: FlowContext = {
  ...DEFAULT_FLOW,
  operator: '9',
  extensions: new Map([
    ['2012', paulBakery],
    ['2013', paulOptics],
    ['2014', sophie],
  ]),
};

const decision = (kind: Decision['kind'], e?: DirectoryEntry, choices: DirectoryEntry[] = []): Decision => ({
  kind,
  entry: e,
  choices,
  confidence: 0.9,
  reason: '',
});

/** Runs events from the start; returns the last state and every action in order. */
function play(events: FlowEvent[], context: FlowContext = ctx): { state: FlowState; actions: FlowAction[] } {
  let state = initialState();
  const actions: FlowAction[] = [];
  for (const event of [{ type: 'start' } as FlowEvent, ...events]) {
    const r = step(state, event, context);
    state = r.state;
    actions.push(...r.actions);
  }
  return { state, actions };
}

const transfers = (actions: FlowAction[]): string[] =>
  actions
    .filter((a): a is Extract<FlowAction, { type: 'transfer' }> => a.type === 'transfer')
    .map((a) => (a.target.operator ? `operator:${a.target.extension}` : a.target.extension));
const prompts = (actions: FlowAction[]): string[] =>
  actions.filter((a): a is Extract<FlowAction, { type: 'play' }> => a.type === 'play').map((a) => a.prompt.key);

describe('call flow', () => {
  it('greets with barge-in allowed and listens for a name', () => {
    const { actions, state } = play([]);
    expect(actions).toEqual([
      { type: 'play', prompt: { key: 'greeting' }, bargeIn: true },
      { type: 'listen', for: 'name' },
    ]);
    expect(state.phase).toBe('greeting');
  });

  it('sends a call to a store with no enabled entry straight to the operator (issue 14, 9)', () => {
    const { actions } = play([], { ...ctx, extensions: new Map() });
    expect(transfers(actions)).toEqual(['operator:9']);
    expect(prompts(actions)).not.toContain('greeting');
  });

  it('stops the greeting when the caller starts speaking (barge-in)', () => {
    const { actions, state } = play([{ type: 'speechStarted' }]);
    expect(actions).toContainEqual({ type: 'stopPrompt' });
    expect(state.phase).toBe('listening');
  });

  const table: [string, FlowEvent[], string[], string, FlowState['outcome']][] = [
    [
      'a clear match is announced and transferred',
      [{ type: 'heard', decision: decision('transfer', sophie) }, { type: 'transferred' }],
      ['2014'],
      'greeting,connecting',
      'transferred',
    ],
    [
      'a confirmed match ("yes") is transferred',
      [{ type: 'heard', decision: decision('confirm', sophie) }, { type: 'answered', answer: { kind: 'yes' } }, { type: 'transferred' }],
      ['2014'],
      'greeting,confirm,connecting',
      'transferred',
    ],
    [
      'a confirmation by keypad 1 is transferred',
      [{ type: 'heard', decision: decision('confirm', sophie) }, { type: 'digit', digit: '1' }, { type: 'transferred' }],
      ['2014'],
      'greeting,confirm,connecting',
      'transferred',
    ],
    [
      '"no" to a confirmation asks again',
      [
        { type: 'heard', decision: decision('confirm', sophie) },
        { type: 'answered', answer: { kind: 'no' } },
      ],
      [],
      'greeting,confirm,retry',
      undefined,
    ],
    [
      'keypad 2 to a confirmation asks again',
      [
        { type: 'heard', decision: decision('confirm', sophie) },
        { type: 'digit', digit: '2' },
      ],
      [],
      'greeting,confirm,retry',
      undefined,
    ],
    [
      'two names offered on the keypad alone are chosen by key',
      [
        { type: 'heard', decision: { ...decision('disambiguate', undefined, [paulBakery, sophie]), keysOnly: true } },
        { type: 'digit', digit: '2' },
      ],
      ['2014'],
      'greeting,disambiguate,connecting',
      undefined,
    ],
    [
      '0 to names offered (none of them the one wanted) reaches the operator at once',
      [
        { type: 'heard', decision: { ...decision('disambiguate', undefined, [paulBakery, sophie]), keysOnly: true } },
        { type: 'digit', digit: '0' },
        { type: 'timer', name: 'digits' },
      ],
      ['operator:9'],
      'greeting,disambiguate,operator',
      undefined,
    ],
    [
      'a spoken choice between names offered on the keypad alone is not taken: the choices are read again, then the name asked again',
      [
        { type: 'heard', decision: { ...decision('disambiguate', undefined, [paulBakery, sophie]), keysOnly: true } },
        { type: 'answered', answer: { kind: 'choice', index: 1 } },
        { type: 'answered', answer: { kind: 'choice', index: 1 } },
      ],
      [],
      'greeting,disambiguate,disambiguate,retry',
      undefined,
    ],
    [
      'homonyms are told apart by department',
      [
        { type: 'heard', decision: decision('disambiguate', undefined, [paulBakery, paulOptics]) },
        { type: 'answered', answer: { kind: 'choice', index: 1 } },
      ],
      ['2013'],
      'greeting,disambiguate,connecting',
      undefined,
    ],
    [
      'two names offered: the one said again is put through',
      [
        { type: 'heard', decision: decision('disambiguate', undefined, [sophie, paulBakery]) },
        { type: 'answered', answer: { kind: 'choice', index: 0 } },
      ],
      ['2014'],
      'greeting,disambiguate,connecting',
      undefined,
    ],
    [
      'an unclear answer to a choice ("oui") reads the choices again, once',
      [
        { type: 'heard', decision: decision('disambiguate', undefined, [sophie, paulBakery]) },
        { type: 'answered', answer: { kind: 'unclear' } },
        { type: 'answered', answer: { kind: 'choice', index: 1 } },
      ],
      ['2012'],
      'greeting,disambiguate,disambiguate,connecting',
      undefined,
    ],
    [
      'a second unclear answer to a choice asks for the name again',
      [
        { type: 'heard', decision: decision('disambiguate', undefined, [sophie, paulBakery]) },
        { type: 'answered', answer: { kind: 'unclear' } },
        { type: 'answered', answer: { kind: 'unclear' } },
      ],
      [],
      'greeting,disambiguate,disambiguate,retry',
      undefined,
    ],
    [
      '"no" to a choice asks for the name again',
      [
        { type: 'heard', decision: decision('disambiguate', undefined, [sophie, paulBakery]) },
        { type: 'answered', answer: { kind: 'no' } },
      ],
      [],
      'greeting,disambiguate,retry',
      undefined,
    ],
    [
      'homonyms are told apart by keypad',
      [
        { type: 'heard', decision: decision('disambiguate', undefined, [paulBakery, paulOptics]) },
        { type: 'digit', digit: '1' },
      ],
      ['2012'],
      'greeting,disambiguate,connecting',
      undefined,
    ],
    [
      'three misses go to the operator',
      [
        { type: 'heard', decision: decision('reprompt') },
        { type: 'heard', decision: decision('reprompt') },
        { type: 'heard', decision: decision('reprompt') },
        { type: 'transferred' },
      ],
      ['operator:9'],
      'greeting,retry,retry,operator',
      'operator',
    ],
    [
      'silence twice then a name still transfers',
      [
        { type: 'promptEnded' },
        { type: 'timer', name: 'no-input' },
        { type: 'timer', name: 'no-input' },
        { type: 'heard', decision: decision('transfer', sophie) },
      ],
      ['2014'],
      'greeting,no-input,no-input,connecting',
      undefined,
    ],
    [
      'silence three times goes to the operator',
      [
        { type: 'timer', name: 'no-input' },
        { type: 'timer', name: 'no-input' },
        { type: 'timer', name: 'no-input' },
      ],
      ['operator:9'],
      'greeting,no-input,no-input,operator',
      undefined,
    ],
    [
      'asking for the operator goes there',
      [{ type: 'heard', decision: decision('operator') }],
      ['operator:9'],
      'greeting,operator',
      undefined,
    ],
    [
      'an extension then # transfers to it',
      [
        { type: 'digit', digit: '2' },
        { type: 'digit', digit: '0' },
        { type: 'digit', digit: '1' },
        { type: 'digit', digit: '4' },
        { type: 'digit', digit: '#' },
      ],
      ['2014'],
      'greeting,connecting-extension',
      undefined,
    ],
    [
      'an extension then a pause transfers to it',
      [
        { type: 'digit', digit: '2' },
        { type: 'digit', digit: '0' },
        { type: 'digit', digit: '1' },
        { type: 'digit', digit: '2' },
        { type: 'timer', name: 'digits' },
      ],
      ['2012'],
      'greeting,connecting-extension',
      undefined,
    ],
    [
      '0 is the operator',
      [
        { type: 'digit', digit: '0' },
        { type: 'digit', digit: '#' },
      ],
      ['operator:9'],
      'greeting,operator',
      undefined,
    ],
    [
      'an unknown extension is refused and the caller asked again',
      [
        { type: 'digit', digit: '5' },
        { type: 'digit', digit: '5' },
        { type: 'digit', digit: '#' },
      ],
      [],
      'greeting,unknown-extension',
      undefined,
    ],
    [
      'a failed transfer goes to the operator',
      [{ type: 'heard', decision: decision('transfer', sophie) }, { type: 'transferFailed', reason: '486' }, { type: 'transferred' }],
      ['2014', 'operator:9'],
      'greeting,connecting,transfer-failed',
      'operator',
    ],
    [
      'a failed operator transfer says goodbye and hangs up',
      [{ type: 'heard', decision: decision('operator') }, { type: 'transferFailed', reason: 'timeout' }, { type: 'promptEnded' }],
      ['operator:9'],
      'greeting,operator,goodbye',
      'failed',
    ],
    [
      'a recognizer failure goes to the operator',
      [{ type: 'failed', component: 'recognizer', reason: 'worker died' }],
      ['operator:9'],
      'greeting,operator',
      undefined,
    ],
    ['a caller hanging up mid-prompt is abandoned', [{ type: 'hangup' }], [], 'greeting', 'abandoned'],
  ];

  it.each(table)('%s', (_name, events, expectedTransfers, expectedPrompts, outcome) => {
    const { state, actions } = play(events);
    expect(transfers(actions)).toEqual(expectedTransfers);
    expect(prompts(actions).join(',')).toBe(expectedPrompts);
    expect(state.outcome).toBe(outcome);
  });

  it('does not ask again after a transfer has started', () => {
    const { actions } = play([
      { type: 'heard', decision: decision('transfer', sophie) },
      { type: 'timer', name: 'no-input' },
      { type: 'heard', decision: decision('transfer', paulBakery) },
      { type: 'digit', digit: '5' },
    ]);
    expect(transfers(actions)).toEqual(['2014']);
  });

  it('hangs up after a transfer is done and records the decision path', () => {
    const { state, actions } = play([
      { type: 'heard', decision: decision('confirm', sophie) },
      { type: 'answered', answer: { kind: 'yes' } },
      { type: 'transferred' },
    ]);
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

describe('dial-by-name on the keypad', () => {
  const legoff = entry('p09', 'Yann', 'Le Goff', '2040', 'Poissonnerie');
  const kerjean = entry('p10', 'Gwenaëlle', 'Kerjean', '2041');
  const kervella = entry('p11', 'Raphaël', 'Kervella', '2042');
  const kerouac = entry('p12', 'Anne', 'Kerouac', '2043');
  const keribin = entry('p13', 'Loïc', 'Kerbiriou', '2044');
  const directory = [paulBakery, paulOptics, sophie, legoff, kerjean, kervella, kerouac, keribin];
  const spellCtx: FlowContext = { ...ctx, directory };
  const run = (events: FlowEvent[]) => play(events, spellCtx);
  const keys = (text: string): FlowEvent[] => text.split('').map((digit) => ({ type: 'digit', digit }));

  it.each([
    ['Le Goff', '534633'],
    ['Kerjean', '5375326'],
    ["O'Neill", '663455'],
    ['Gwenaëlle', '493623553'],
  ])('maps %s to the keys %s (accents folded, spaces and apostrophes dropped)', (name, digits) => {
    expect(keypadDigits(name)).toBe(digits);
  });

  it('finds a last name by any of its words ("Goff" in "Le Goff")', () => {
    expect(spelledMatches(directory, '4633').map((e) => e.id)).toEqual(['p09']);
    expect(spelledMatches(directory, '537').map((e) => e.id)).toEqual(['p10', 'p11', 'p12', 'p13']);
  });

  it('* then the letters of a unique name reads it back, and 1 puts the call through', () => {
    // G: only "Goff" (in "Le Goff") starts with 4; the caller types on (GOFF), then pauses.
    const { actions, state } = run([
      ...keys('*4633'),
      { type: 'timer', name: 'digits' },
      { type: 'digit', digit: '1' },
      { type: 'transferred' },
    ]);
    expect(prompts(actions)).toEqual(['greeting', 'spell', 'spell-choices', 'connecting']);
    expect(transfers(actions)).toEqual(['2040']);
    expect(state.path).toContain('spell:asked');
    expect(state.outcome).toBe('transferred');
  });

  it('asks for another letter while more than three names match, then reads back up to three', () => {
    const { actions } = run([...keys('*537'), { type: 'timer', name: 'digits' }, ...keys('6#'), { type: 'digit', digit: '1' }]);
    const played = actions.filter((a): a is Extract<FlowAction, { type: 'play' }> => a.type === 'play').map((a) => a.prompt);
    expect(played.map((p) => p.key)).toEqual(['greeting', 'spell', 'spell-more', 'spell-choices', 'connecting']);
    expect(played[2]).toEqual({ key: 'spell-more', count: 4 });
    expect(played[3]).toMatchObject({ choices: [{ name: 'Anne Kerouac' }] });
    expect(transfers(actions)).toEqual(['2043']);
  });

  it('goes back to speech when no name matches, and to the operator on 0', () => {
    const none = run(keys('*9#'));
    expect(prompts(none.actions)).toEqual(['greeting', 'spell', 'spell-none']);
    expect(none.state.phase).toBe('listening');
    expect(transfers(run([...keys('*5'), { type: 'digit', digit: '0' }]).actions)).toEqual(['operator:9']);
  });

  it('is offered once when names were not understood, before the operator', () => {
    const miss: FlowEvent = { type: 'heard', decision: decision('reprompt') };
    const { actions, state } = run([miss, miss, miss]);
    expect(prompts(actions)).toEqual(['greeting', 'retry', 'retry', 'spell']);
    expect(state.phase).toBe('spelling');
    const after = run([miss, miss, miss, { type: 'timer', name: 'no-input' }]);
    expect(transfers(after.actions)).toEqual(['operator:9']);
    // Without a directory (or after silence) the operator comes at once, as before.
    expect(transfers(play([miss, miss, miss]).actions)).toEqual(['operator:9']);
  });
});

describe('the choices read to a caller', () => {
  const two = [
    { name: 'Sophie Martin', department: '' },
    { name: 'Hervé Prodhomme', department: 'Boulangerie' },
  ];
  const homonyms = [
    { name: 'Paul Martin', department: 'Boulangerie' },
    { name: 'Paul Martin', department: 'Optique' },
  ];

  it('offers two different names by name, with their keys', () => {
    expect(promptText({ key: 'disambiguate', choices: two }, 'fr-FR')).toBe(
      'Sophie Martin, ou Hervé Prodhomme ? Dites le nom, ou tapez 1 pour Sophie Martin, 2 pour Hervé Prodhomme, ou 0 pour le standard.',
    );
    expect(promptText({ key: 'disambiguate', choices: two, again: true }, 'en-US')).toBe(
      'Which one would you like? Sophie Martin, or Hervé Prodhomme? Say the name, or press 1 for Sophie Martin, 2 for Hervé Prodhomme, or 0 for the operator.',
    );
  });

  it('offers names the one model confused on the keypad alone', () => {
    expect(promptText({ key: 'disambiguate', choices: two, keysOnly: true }, 'fr-FR')).toBe(
      'Sophie Martin, ou Hervé Prodhomme ? Tapez 1 pour Sophie Martin, 2 pour Hervé Prodhomme, ou 0 pour le standard.',
    );
    expect(promptText({ key: 'disambiguate', choices: two, keysOnly: true }, 'en-US')).toBe(
      'Did you mean Sophie Martin, or Hervé Prodhomme? Press 1 for Sophie Martin, 2 for Hervé Prodhomme, or 0 for the operator.',
    );
    // The two models' names and one model's runner-up: three on the keypad.
    expect(promptText({ key: 'disambiguate', choices: [...two, { name: 'Élodie Masson', department: '' }], keysOnly: true }, 'fr-FR')).toBe(
      'Sophie Martin, ou Hervé Prodhomme, ou Élodie Masson ? Tapez 1 pour Sophie Martin, 2 pour Hervé Prodhomme, 3 pour Élodie Masson, ou 0 pour le standard.',
    );
    expect(promptText({ key: 'disambiguate', choices: homonyms, keysOnly: true }, 'en-US')).toBe(
      'There are 2 matches. For Paul Martin in Boulangerie, press 1. For Paul Martin in Optique, press 2.',
    );
  });

  it('tells homonyms apart by department', () => {
    expect(promptText({ key: 'disambiguate', choices: homonyms }, 'fr-FR')).toBe(
      'Il y a 2 correspondances. Pour Paul Martin, Boulangerie, dites Boulangerie ou tapez 1. Pour Paul Martin, Optique, dites Optique ou tapez 2.',
    );
    expect(promptText({ key: 'disambiguate', choices: homonyms, again: true }, 'fr-FR')).toMatch(
      /^Lequel souhaitez-vous \? Pour Paul Martin, Boulangerie/,
    );
  });
});

describe('names said as names', () => {
  it("says a back office's capitals as a name: « Je vous mets en relation avec Ronan Le Gall », « Vous avez dit Yannick Guivarc'h ? »", () => {
    const ronan = entry('p10', 'Ronan', 'LE GALL', '4101');
    const yannick = entry('p11', 'YANNICK', "GUIVARC'H", '4102');
    const texts = (events: FlowEvent[]): string[] =>
      play(events)
        .actions.filter((a): a is Extract<FlowAction, { type: 'play' }> => a.type === 'play')
        .map((a) => promptText(a.prompt, 'fr-FR'));
    expect(texts([{ type: 'heard', decision: decision('transfer', ronan) }])).toContain('Je vous mets en relation avec Ronan Le Gall.');
    expect(texts([{ type: 'heard', decision: decision('confirm', yannick) }]).join(' ')).toContain("Vous avez dit Yannick Guivarc'h ?");
    const sav: DirectoryEntry = { ...entry('s1', '', '', '4200'), type: 'service', serviceName: 'SAV' };
    expect(texts([{ type: 'heard', decision: decision('transfer', sav) }])).toContain('Je vous mets en relation avec SAV.');
  });
});
