// attendant's store console: plain JavaScript, no framework, nothing loaded from elsewhere.
// Every text a user sees is in T (French first); data is always put in the page as text.
'use strict';

const T = {
  fr: {
    'nav.directory': 'Annuaire',
    'nav.test': 'Tester un nom',
    'nav.calls': 'Appels',
    'nav.prompts': 'Messages',
    store: 'Magasin',
    signOut: 'Se déconnecter',
    signIn: 'Se connecter',
    token: 'Jeton du magasin ou jeton administrateur',
    signInTitle: 'Console du magasin',
    signInHelp: 'Le jeton vous a été donné par votre service informatique (attendant token create).',
    search: 'Rechercher un nom, un service, un poste…',
    entries: '{n} entrée(s), version {v}',
    id: 'Identifiant',
    type: 'Type',
    name: 'Nom',
    firstName: 'Prénom',
    lastName: 'Nom',
    serviceName: 'Nom du service',
    department: 'Rayon',
    extension: 'Poste',
    aliases: 'Alias (séparés par |)',
    soundsLike: 'Se prononce',
    enabled: 'Actif',
    actions: 'Actions',
    person: 'Personne',
    service: 'Service',
    yes: 'oui',
    no: 'non',
    edit: 'Modifier',
    disable: 'Désactiver',
    enable: 'Activer',
    delete: 'Supprimer',
    save: 'Enregistrer',
    cancel: 'Annuler',
    addEntry: 'Ajouter une entrée',
    editEntry: 'Modifier l’entrée',
    confirmDelete: 'Supprimer « {name} » de l’annuaire ?',
    importTitle: 'Importer un fichier (Excel .xlsx, CSV ou JSON)',
    preview: 'Aperçu',
    apply: 'Appliquer',
    previewOf: 'Aperçu de {file} : {n} entrée(s)',
    added: 'Ajoutées',
    changed: 'Modifiées',
    removed: 'Retirées',
    problemsFound: '{n} problème(s) : corrigez le fichier et envoyez-le à nouveau. Rien n’a été changé.',
    noProblem: 'Aucun problème.',
    applied: 'Version {v} appliquée : {a} ajoutée(s), {c} modifiée(s), {r} retirée(s).',
    saved: 'Enregistré : version {v}.',
    export: 'Exporter',
    versions: 'Versions',
    version: 'Version',
    date: 'Date',
    via: 'Par',
    who: 'Qui',
    counts: '+ / ~ / −',
    current: 'courante',
    diff: 'Différences avec la courante',
    rollback: 'Revenir à cette version',
    confirmRollback: 'Revenir à la version {v} ? Une nouvelle version sera créée.',
    rolledBack: 'Retour à la version {old} : c’est maintenant la version {v}.',
    history: 'Historique',
    action: 'Action',
    diffTitle: 'Version {a} → version {b}',
    nothingChanged: 'Aucune différence.',
    testTitle: 'Que ferait le standard si un appelant disait…',
    testPlaceholder: 'par exemple : Hervé Prodhomme, la boulangerie',
    test: 'Tester',
    audioTitle: 'Un enregistrement',
    audioHelp: 'Envoyez un fichier WAV, ou enregistrez-vous au micro (4 secondes).',
    analyse: 'Analyser le fichier',
    record: 'Enregistrer au micro',
    recording: 'Enregistrement… parlez maintenant.',
    heard: 'Entendu',
    decision: 'Décision',
    confidence: 'Confiance',
    reason: 'Pourquoi',
    candidates: 'Candidats',
    score: 'Score',
    'd.transfer': 'transfert direct',
    'd.confirm': 'demande de confirmation',
    'd.disambiguate': 'demande de choisir',
    'd.reprompt': 'fait répéter',
    'd.operator': 'passe à l’opérateur',
    models: 'Ce que chaque modèle a entendu',
    model: 'Modèle',
    pronunciation: 'Prononciation utilisée pour « {name} »',
    word: 'Mot',
    phones: 'Phonèmes',
    fixName: 'Si le nom est mal compris, donnez-lui une prononciation (« se prononce ») ou un alias :',
    decisionMs: 'décidé {ms} ms après la fin de l’audio',
    callsTitle: 'Appels des 30 derniers jours',
    time: 'Heure',
    outcome: 'Issue',
    reached: 'Joint',
    how: 'Comment',
    seconds: 'Durée (s)',
    said: 'Entendu',
    'o.transferred': 'transféré',
    'o.operator': 'opérateur',
    'o.abandoned': 'raccroché',
    'o.failed': 'échec',
    'o.rejected': 'refusé',
    'h.voice': 'voix',
    'h.keypad': 'clavier',
    'h.operator': 'opérateur',
    'h.none': '—',
    mostConfirmed: 'Noms le plus souvent confirmés',
    mostRetried: 'Noms joints après une répétition',
    toOperator: 'Appels passés à l’opérateur : {n}',
    perDay: 'Issues par jour',
    noCalls: 'Aucun appel pour l’instant.',
    calls: 'appels',
    call: 'appel',
    'via.cli': 'ligne de commande',
    'via.console': 'console',
    'via.grpc': 'API (gRPC)',
    'via.file': 'dépôt de fichier',
    'via.demo': 'démonstration',
    'act.replace': 'import',
    'act.update': 'modification',
    'act.rollback': 'retour à la version {v}',
    'p.greeting': 'Accueil',
    'p.retry': 'Répétition',
    'p.no-input': 'Silence',
    'p.confirm': 'Confirmation',
    'p.disambiguate': 'Choix',
    'p.connecting': 'Transfert',
    'p.connecting-extension': 'Transfert vers un poste',
    'p.operator': 'Standard',
    'p.unknown-extension': 'Poste inconnu',
    'p.transfer-failed': 'Transfert impossible',
    'p.goodbye': 'Au revoir',
    'p.spell': 'Épeler au clavier',
    'p.spell-more': 'Épeler : encore une lettre',
    'p.spell-none': 'Épeler : aucun nom',
    'p.spell-choices': 'Épeler : choix',
    promptsTitle: 'Messages entendus par les appelants',
    prompt: 'Message',
    text: 'Texte',
    listen: 'Écouter',
    own: 'Enregistrement du magasin',
    synth: 'Voix de synthèse',
    upload: 'Remplacer par un enregistrement (WAV)',
    backToSynth: 'Revenir à la voix de synthèse',
    promptSaved: 'Message « {key} » remplacé : le prochain appel l’entendra.',
    promptReset: 'Message « {key} » : retour à la voix de synthèse.',
    chooseFile: 'Choisissez d’abord un fichier.',
    signedOut: 'Vous êtes déconnecté.',
    error: 'Erreur',
  },
  en: {
    'nav.directory': 'Directory',
    'nav.test': 'Test a name',
    'nav.calls': 'Calls',
    'nav.prompts': 'Prompts',
    store: 'Store',
    signOut: 'Sign out',
    signIn: 'Sign in',
    token: 'Store token or admin token',
    signInTitle: 'Store console',
    signInHelp: 'Your IT team gave you the token (attendant token create).',
    search: 'Search a name, a service, an extension…',
    entries: '{n} entries, version {v}',
    id: 'Id',
    type: 'Type',
    name: 'Name',
    firstName: 'First name',
    lastName: 'Last name',
    serviceName: 'Service name',
    department: 'Department',
    extension: 'Extension',
    aliases: 'Aliases (separated by |)',
    soundsLike: 'Sounds like',
    enabled: 'Enabled',
    actions: 'Actions',
    person: 'Person',
    service: 'Service',
    yes: 'yes',
    no: 'no',
    edit: 'Edit',
    disable: 'Disable',
    enable: 'Enable',
    delete: 'Delete',
    save: 'Save',
    cancel: 'Cancel',
    addEntry: 'Add an entry',
    editEntry: 'Edit the entry',
    confirmDelete: 'Delete "{name}" from the directory?',
    importTitle: 'Import a file (Excel .xlsx, CSV or JSON)',
    preview: 'Preview',
    apply: 'Apply',
    previewOf: 'Preview of {file}: {n} entries',
    added: 'Added',
    changed: 'Changed',
    removed: 'Removed',
    problemsFound: '{n} problem(s): fix the file and send it again. Nothing was changed.',
    noProblem: 'No problem.',
    applied: 'Version {v} applied: {a} added, {c} changed, {r} removed.',
    saved: 'Saved: version {v}.',
    export: 'Export',
    versions: 'Versions',
    version: 'Version',
    date: 'Date',
    via: 'Via',
    who: 'Who',
    counts: '+ / ~ / −',
    current: 'current',
    diff: 'Differences with the current one',
    rollback: 'Roll back to this version',
    confirmRollback: 'Roll back to version {v}? A new version will be made.',
    rolledBack: 'Back to version {old}: it is now version {v}.',
    history: 'History',
    action: 'Action',
    diffTitle: 'Version {a} → version {b}',
    nothingChanged: 'No difference.',
    testTitle: 'What would the attendant do if a caller said…',
    testPlaceholder: 'for example: Hervé Prodhomme, the bakery',
    test: 'Test',
    audioTitle: 'A recording',
    audioHelp: 'Send a WAV file, or record yourself with the microphone (4 seconds).',
    analyse: 'Analyse the file',
    record: 'Record from the microphone',
    recording: 'Recording… speak now.',
    heard: 'Heard',
    decision: 'Decision',
    confidence: 'Confidence',
    reason: 'Why',
    candidates: 'Candidates',
    score: 'Score',
    'd.transfer': 'transfers at once',
    'd.confirm': 'asks to confirm',
    'd.disambiguate': 'asks which one',
    'd.reprompt': 'asks again',
    'd.operator': 'hands over to the operator',
    models: 'What each model heard',
    model: 'Model',
    pronunciation: 'Pronunciation used for "{name}"',
    word: 'Word',
    phones: 'Phones',
    fixName: 'If the name is misheard, give it a pronunciation ("sounds like") or an alias:',
    decisionMs: 'decided {ms} ms after the end of the audio',
    callsTitle: 'Calls of the last 30 days',
    time: 'Time',
    outcome: 'Outcome',
    reached: 'Reached',
    how: 'How',
    seconds: 'Length (s)',
    said: 'Heard',
    'o.transferred': 'transferred',
    'o.operator': 'operator',
    'o.abandoned': 'hung up',
    'o.failed': 'failed',
    'o.rejected': 'refused',
    'h.voice': 'voice',
    'h.keypad': 'keypad',
    'h.operator': 'operator',
    'h.none': '—',
    mostConfirmed: 'Names most often confirmed',
    mostRetried: 'Names reached after a retry',
    toOperator: 'Calls handed to the operator: {n}',
    perDay: 'Outcomes per day',
    noCalls: 'No call yet.',
    calls: 'calls',
    call: 'call',
    'via.cli': 'command line',
    'via.console': 'console',
    'via.grpc': 'API (gRPC)',
    'via.file': 'file drop',
    'via.demo': 'demo',
    'act.replace': 'import',
    'act.update': 'edit',
    'act.rollback': 'back to version {v}',
    'p.greeting': 'Greeting',
    'p.retry': 'Retry',
    'p.no-input': 'No input',
    'p.confirm': 'Confirmation',
    'p.disambiguate': 'Choice',
    'p.connecting': 'Connecting',
    'p.connecting-extension': 'Connecting to an extension',
    'p.operator': 'Operator',
    'p.unknown-extension': 'Unknown extension',
    'p.transfer-failed': 'Transfer failed',
    'p.goodbye': 'Goodbye',
    'p.spell': 'Spell on the keypad',
    'p.spell-more': 'Spell: one more letter',
    'p.spell-none': 'Spell: no name',
    'p.spell-choices': 'Spell: choices',
    promptsTitle: 'Prompts callers hear',
    prompt: 'Prompt',
    text: 'Text',
    listen: 'Listen',
    own: 'Store recording',
    synth: 'Synthesised voice',
    upload: 'Replace with a recording (WAV)',
    backToSynth: 'Back to the synthesised voice',
    promptSaved: 'Prompt "{key}" replaced: the next call hears it.',
    promptReset: 'Prompt "{key}": back to the synthesised voice.',
    chooseFile: 'Choose a file first.',
    signedOut: 'You are signed out.',
    error: 'Error',
  },
};

const state = { me: null, store: null, lang: localStorage.getItem('attendant.lang') === 'en' ? 'en' : 'fr' };

function t(key, values) {
  const text = (T[state.lang] && T[state.lang][key]) || T.fr[key] || key;
  return text.replace(/\{(\w+)\}/g, (_, k) => (values && values[k] !== undefined ? String(values[k]) : ''));
}

/** An element with attributes and children; strings become text nodes (never HTML). */
function h(tag, attrs, ...children) {
  const ns = ['svg', 'rect', 'text', 'g', 'line'].includes(tag) ? 'http://www.w3.org/2000/svg' : null;
  const el = ns ? document.createElementNS(ns, tag) : document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'text') el.textContent = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) if (c !== null && c !== undefined && c !== false) el.append(c instanceof Node ? c : String(c));
  return el;
}

function notice(text, error) {
  const n = document.getElementById('notice');
  n.textContent = text;
  n.className = error ? 'error' : '';
  n.hidden = !text;
}

class ApiError extends Error {
  constructor(status, body) {
    super(body.error || `HTTP ${status}`);
    this.status = status;
    this.body = body;
  }
}

async function api(method, path, body, opts) {
  const headers = {};
  if (state.me) headers['x-csrf-token'] = state.me.csrf;
  let payload;
  if (opts && opts.file) {
    payload = opts.file;
    headers['content-type'] = 'application/octet-stream';
    if (opts.file.name) headers['x-file-name'] = encodeURIComponent(opts.file.name);
  } else if (body !== undefined) {
    payload = JSON.stringify(body);
    headers['content-type'] = 'application/json';
  }
  const res = await fetch(path, { method, headers, body: payload, credentials: 'same-origin' });
  const data = await res.json().catch(() => ({}));
  if (res.status === 401 && path !== '/api/session') {
    state.me = null;
    render();
  }
  if (!res.ok) throw new ApiError(res.status, data);
  return data;
}

const storePath = (rest) => `/api/stores/${encodeURIComponent(state.store)}${rest || ''}`;

function guard(fn) {
  return async (...args) => {
    try {
      await fn(...args);
    } catch (err) {
      notice(`${t('error')} : ${err.message}`, true);
    }
  };
}

function applyTexts() {
  document.documentElement.lang = state.lang;
  for (const el of document.querySelectorAll('[data-t]')) el.textContent = t(el.dataset.t);
  document.getElementById('lang').value = state.lang;
}

async function start() {
  document.getElementById('lang').addEventListener('change', (e) => {
    state.lang = e.target.value;
    localStorage.setItem('attendant.lang', state.lang);
    applyTexts();
    render();
  });
  document.getElementById('sign-out').addEventListener(
    'click',
    guard(async () => {
      await api('DELETE', '/api/session');
      state.me = null;
      notice(t('signedOut'));
      render();
    }),
  );
  document.getElementById('store').addEventListener('change', (e) => {
    state.store = e.target.value;
    render();
  });
  window.addEventListener('hashchange', () => {
    notice('');
    render();
  });
  try {
    state.me = await api('GET', '/api/session');
  } catch {
    state.me = null;
  }
  applyTexts();
  render();
}

function render() {
  const app = document.getElementById('app');
  const signedIn = state.me !== null;
  document.getElementById('nav').hidden = !signedIn;
  document.getElementById('sign-out').hidden = !signedIn;
  document.getElementById('store-pick').hidden = !signedIn;
  if (!signedIn) {
    app.replaceChildren(signInView());
    return;
  }
  const stores = state.me.stores;
  if (!state.store || !stores.some((s) => s.id === state.store)) state.store = state.me.store || (stores[0] && stores[0].id);
  document
    .getElementById('store')
    .replaceChildren(
      ...stores.map((s) => h('option', { value: s.id, selected: s.id === state.store }, s.name ? `${s.name} (${s.id})` : s.id)),
    );
  const page = (location.hash.replace(/^#\//, '') || 'annuaire').split('/')[0];
  for (const a of document.querySelectorAll('#nav a')) a.classList.toggle('active', a.dataset.page === page);
  const views = { annuaire: directoryView, tester: testView, appels: callsView, messages: promptsView };
  app.replaceChildren(h('p', { class: 'muted' }, '…'));
  Promise.resolve((views[page] || directoryView)(app)).catch((err) => {
    app.replaceChildren();
    notice(`${t('error')} : ${err.message}`, true);
  });
}

function signInView() {
  const input = h('input', { type: 'password', id: 'token', autocomplete: 'current-password', required: true });
  const form = h(
    'form',
    { class: 'signin', id: 'sign-in' },
    h(
      'section',
      {},
      h('h1', { text: t('signInTitle') }),
      h('label', { for: 'token' }, t('token')),
      input,
      h('p', { class: 'muted', text: t('signInHelp') }),
      h('button', { type: 'submit', id: 'sign-in-button' }, t('signIn')),
    ),
  );
  form.addEventListener(
    'submit',
    guard(async (e) => {
      e.preventDefault();
      state.me = await api('POST', '/api/session', { token: input.value, lang: state.lang });
      notice('');
      render();
    }),
  );
  return form;
}

// ---------- Directory ----------

const nameOf = (e) => e.name || (e.type === 'service' ? e.service_name : `${e.first_name} ${e.last_name}`.trim());

async function directoryView(app) {
  const [dir, versions, history] = await Promise.all([
    api('GET', storePath('/entries')),
    api('GET', storePath('/versions')),
    api('GET', storePath('/history')),
  ]).catch((err) => {
    notice(`${t('error')} : ${err.message}`, true);
    return [null, null, null];
  });
  if (!dir) return app.replaceChildren();
  const search = h('input', { type: 'search', id: 'search', placeholder: t('search') });
  const tbody = h('tbody', { id: 'entries' });
  const fill = () => {
    const q = search.value.toLowerCase();
    const rows = dir.entries.filter(
      (e) => !q || [nameOf(e), e.extension, e.department, e.id, e.aliases.join(' ')].join(' ').toLowerCase().includes(q),
    );
    tbody.replaceChildren(
      ...rows.slice(0, 500).map((e) =>
        h(
          'tr',
          { class: e.enabled ? '' : 'disabled', 'data-id': e.id },
          h('td', {}, nameOf(e)),
          h('td', {}, t(e.type)),
          h('td', {}, e.department),
          h('td', {}, e.extension),
          h('td', {}, e.aliases.join(', ')),
          h('td', {}, e.sounds_like),
          h('td', {}, e.enabled ? t('yes') : t('no')),
          h(
            'td',
            { class: 'actions' },
            h('button', { class: 'secondary', onclick: () => editor.open(e) }, t('edit')),
            ' ',
            h(
              'button',
              { class: 'secondary', onclick: guard(() => saveEntry({ ...e, enabled: !e.enabled })) },
              e.enabled ? t('disable') : t('enable'),
            ),
            ' ',
            h(
              'button',
              {
                class: 'danger',
                onclick: guard(async () => {
                  if (!confirm(t('confirmDelete', { name: nameOf(e) }))) return;
                  const r = await api('DELETE', storePath(`/entries/${encodeURIComponent(e.id)}`));
                  notice(t('saved', { v: r.version }));
                  render();
                }),
              },
              t('delete'),
            ),
          ),
        ),
      ),
    );
  };
  search.addEventListener('input', fill);
  const editor = entryEditor();
  fill();
  app.replaceChildren(
    h(
      'section',
      {},
      h('h1', {}, t('nav.directory')),
      h(
        'div',
        { class: 'row' },
        search,
        h('span', { class: 'muted', id: 'count' }, t('entries', { n: dir.entries.length, v: dir.version })),
        h('span', { class: 'spacer' }),
        h('button', { id: 'add-entry', onclick: () => editor.open(null) }, t('addEntry')),
        h('a', { class: 'button secondary', href: storePath('/export.xlsx'), id: 'export-xlsx' }, `${t('export')} Excel`),
        h('a', { class: 'button secondary', href: storePath('/export.csv'), id: 'export-csv' }, `${t('export')} CSV`),
      ),
      editor.el,
      h(
        'div',
        { class: 'table-wrap' },
        h(
          'table',
          {},
          h(
            'thead',
            {},
            h(
              'tr',
              {},
              ...['name', 'type', 'department', 'extension', 'aliases', 'soundsLike', 'enabled', 'actions'].map((k) => h('th', {}, t(k))),
            ),
          ),
          tbody,
        ),
      ),
    ),
    importSection(),
    versionsSection(versions.versions),
    historySection(history.history),
  );
}

async function saveEntry(entry) {
  const r = await api('PUT', storePath(`/entries/${encodeURIComponent(entry.id)}`), { entry });
  notice(t('saved', { v: r.version }));
  render();
}

function entryEditor() {
  const el = h('form', { id: 'entry-form', hidden: true });
  const open = (entry) => {
    const e = entry || {
      id: '',
      type: 'person',
      first_name: '',
      last_name: '',
      service_name: '',
      department: '',
      extension: '',
      aliases: [],
      sounds_like: '',
      enabled: true,
    };
    const field = (key, label, value) => h('label', {}, t(label), h('input', { type: 'text', name: key, value: value || '' }));
    const type = h(
      'select',
      { name: 'type' },
      h('option', { value: 'person', selected: e.type === 'person' }, t('person')),
      h('option', { value: 'service', selected: e.type === 'service' }, t('service')),
    );
    const enabled = h('input', { type: 'checkbox', name: 'enabled', checked: e.enabled });
    const problems = h('ul', { class: 'problems' });
    el.replaceChildren(
      h('h2', {}, entry ? t('editEntry') : t('addEntry')),
      h(
        'div',
        { class: 'form-grid' },
        entry ? h('label', {}, t('id'), h('input', { type: 'text', name: 'id', value: e.id, readonly: true })) : field('id', 'id', ''),
        h('label', {}, t('type'), type),
        field('first_name', 'firstName', e.first_name),
        field('last_name', 'lastName', e.last_name),
        field('service_name', 'serviceName', e.service_name),
        field('department', 'department', e.department),
        field('extension', 'extension', e.extension),
        field('aliases', 'aliases', e.aliases.join(' | ')),
        field('sounds_like', 'soundsLike', e.sounds_like),
        h('label', {}, t('enabled'), enabled),
      ),
      problems,
      h(
        'div',
        { class: 'row' },
        h('button', { type: 'submit' }, t('save')),
        h('button', { type: 'button', class: 'secondary', onclick: () => (el.hidden = true) }, t('cancel')),
      ),
    );
    el.onsubmit = guard(async (ev) => {
      ev.preventDefault();
      const data = Object.fromEntries(new FormData(el).entries());
      const out = {
        ...data,
        aliases: String(data.aliases || '')
          .split('|')
          .map((s) => s.trim())
          .filter(Boolean),
        enabled: enabled.checked,
      };
      try {
        await saveEntry(out);
      } catch (err) {
        problems.replaceChildren(...((err.body && err.body.problems) || []).map((p) => h('li', {}, `${p.field || ''} : ${p.message}`)));
        throw err;
      }
    });
    el.hidden = false;
    el.scrollIntoView();
  };
  return { el, open };
}

function problemList(problems) {
  return h(
    'ul',
    { class: 'problems', id: 'problems' },
    ...problems.map((p) => h('li', {}, [p.where, p.field].filter(Boolean).join(', ') + (p.where || p.field ? ' : ' : '') + p.message)),
  );
}

function entryList(title, rows, id) {
  return h(
    'div',
    { id },
    h('h2', {}, `${title} (${rows.length})`),
    h(
      'ul',
      {},
      ...rows
        .slice(0, 50)
        .map((r) =>
          h('li', {}, r.after ? `${nameOf(r.before)} → ${nameOf(r.after)} (${r.after.extension})` : `${nameOf(r)} (${r.extension})`),
        ),
      rows.length > 50 ? h('li', { class: 'muted' }, `… ${rows.length - 50}`) : null,
    ),
  );
}

function importSection() {
  const file = h('input', { type: 'file', id: 'import-file', accept: '.xlsx,.csv,.json,.txt' });
  const out = h('div', { id: 'preview' });
  const go = guard(async () => {
    if (!file.files[0]) return notice(t('chooseFile'), true);
    const p = await api('POST', storePath('/import'), undefined, { file: file.files[0] });
    const parts = [h('h2', {}, t('previewOf', { file: p.file, n: p.entries }))];
    if (p.problems.length > 0) {
      parts.push(h('p', { class: 'problems' }, t('problemsFound', { n: p.problems.length })), problemList(p.problems));
    } else {
      parts.push(
        h('p', { class: 'ok' }, t('noProblem')),
        h('div', { class: 'cols' }, entryList(t('added'), p.added, 'added'), entryList(t('changed'), p.changed, 'changed')),
        entryList(t('removed'), p.removed, 'removed'),
        h(
          'button',
          {
            id: 'apply',
            onclick: guard(async () => {
              const r = await api('POST', storePath(`/import/${p.preview}`));
              notice(t('applied', { v: r.version, a: r.added, c: r.changed, r: r.removed }));
              render();
            }),
          },
          t('apply'),
        ),
      );
    }
    out.replaceChildren(...parts);
  });
  return h(
    'section',
    {},
    h('h2', {}, t('importTitle')),
    h('div', { class: 'row' }, file, h('button', { id: 'preview-button', onclick: go }, t('preview'))),
    out,
  );
}

function versionsSection(versions) {
  const diff = h('div', { id: 'diff' });
  const current = versions.find((v) => v.current);
  return h(
    'section',
    {},
    h('h2', {}, t('versions')),
    h(
      'table',
      { id: 'versions' },
      h('thead', {}, h('tr', {}, ...['version', 'date', 'via', 'who', 'counts', 'actions'].map((k) => h('th', {}, t(k))))),
      h(
        'tbody',
        {},
        ...versions.map((v) =>
          h(
            'tr',
            { 'data-version': v.version },
            h('td', {}, String(v.version), v.current ? h('span', { class: 'badge' }, ` ${t('current')}`) : null),
            h('td', {}, new Date(v.createdAt).toLocaleString(state.lang)),
            h('td', {}, known(`via.${v.via}`, v.via)),
            h('td', {}, who(v.via, v.actor)),
            h('td', {}, `${v.entries} : +${v.added} ~${v.changed} −${v.removed}`),
            h(
              'td',
              {},
              v.current
                ? null
                : [
                    h(
                      'button',
                      {
                        class: 'secondary',
                        onclick: guard(async () => {
                          const d = await api('GET', storePath(`/diff?from=${v.version}&to=${current.version}`));
                          const none = d.added.length + d.removed.length + d.changed.length === 0;
                          diff.replaceChildren(
                            h('h2', {}, t('diffTitle', { a: d.from, b: d.to })),
                            none
                              ? h('p', {}, t('nothingChanged'))
                              : h(
                                  'div',
                                  { class: 'cols' },
                                  entryList(t('added'), d.added, 'diff-added'),
                                  entryList(t('removed'), d.removed, 'diff-removed'),
                                  entryList(t('changed'), d.changed, 'diff-changed'),
                                ),
                          );
                        }),
                      },
                      t('diff'),
                    ),
                    ' ',
                    h(
                      'button',
                      {
                        class: 'danger rollback',
                        onclick: guard(async () => {
                          if (!confirm(t('confirmRollback', { v: v.version }))) return;
                          const r = await api('POST', storePath('/rollback'), { version: v.version });
                          notice(t('rolledBack', { old: v.version, v: r.version }));
                          render();
                        }),
                      },
                      t('rollback'),
                    ),
                  ],
            ),
          ),
        ),
      ),
    ),
    diff,
  );
}

function historySection(history) {
  return h(
    'section',
    {},
    h('h2', {}, t('history')),
    h(
      'table',
      { id: 'history' },
      h('thead', {}, h('tr', {}, ...['date', 'via', 'who', 'action', 'version', 'counts'].map((k) => h('th', {}, t(k))))),
      h(
        'tbody',
        {},
        ...history
          .slice(0, 100)
          .map((r) =>
            h(
              'tr',
              {},
              h('td', {}, new Date(r.at).toLocaleString(state.lang)),
              h('td', {}, known(`via.${r.via}`, r.via)),
              h('td', {}, who(r.via, r.actor)),
              h('td', {}, actionText(r.action)),
              h('td', {}, String(r.version)),
              h('td', {}, `+${r.added} ~${r.changed} −${r.removed}`),
            ),
          ),
      ),
    ),
  );
}

// ---------- Test a name ----------

function testView(app) {
  const input = h('input', { type: 'text', id: 'test-text', placeholder: t('testPlaceholder'), size: 40 });
  const out = h('div', { id: 'test-result' });
  const show = (r) => out.replaceChildren(resultView(r));
  const typed = h('form', { class: 'row', id: 'test-form' }, input, h('button', { type: 'submit' }, t('test')));
  typed.addEventListener(
    'submit',
    guard(async (e) => {
      e.preventDefault();
      show(await api('POST', storePath('/test'), { text: input.value }));
    }),
  );
  const file = h('input', { type: 'file', id: 'test-wav', accept: '.wav,audio/wav' });
  const analyse = guard(async () => {
    if (!file.files[0]) return notice(t('chooseFile'), true);
    show(await api('POST', storePath('/test-audio'), undefined, { file: file.files[0] }));
  });
  const status = h('span', { class: 'muted', id: 'record-status' });
  const record = guard(async () => {
    status.textContent = t('recording');
    const wav = await recordWav(4000);
    status.textContent = '';
    show(await api('POST', storePath('/test-audio'), undefined, { file: new File([wav], 'micro.wav', { type: 'audio/wav' }) }));
  });
  app.replaceChildren(
    h('section', {}, h('h1', {}, t('testTitle')), typed),
    h(
      'section',
      {},
      h('h2', {}, t('audioTitle')),
      h('p', { class: 'muted' }, t('audioHelp')),
      h(
        'div',
        { class: 'row' },
        file,
        h('button', { id: 'analyse', onclick: analyse }, t('analyse')),
        h('button', { id: 'record', class: 'secondary', onclick: record }, t('record')),
        status,
      ),
    ),
    out,
  );
}

function resultView(r) {
  const editor = entryEditor();
  const top = r.entry || (r.candidates[0] && r.candidates[0]);
  return h(
    'section',
    {},
    h(
      'table',
      { id: 'decision' },
      h(
        'tbody',
        {},
        h('tr', {}, h('th', {}, t('heard')), h('td', { id: 'heard' }, r.heard || '—')),
        h(
          'tr',
          {},
          h('th', {}, t('decision')),
          h(
            'td',
            {},
            h('span', { class: `badge ${r.decision}`, id: 'decision-kind', 'data-kind': r.decision }, t(`d.${r.decision}`)),
            r.entry ? ` → ${nameOf(r.entry)} (${r.entry.extension})` : '',
            r.choices.length > 0 ? ` : ${r.choices.map(nameOf).join(' / ')}` : '',
          ),
        ),
        h(
          'tr',
          {},
          h('th', {}, t('confidence')),
          h(
            'td',
            {},
            String(r.confidence),
            r.decision_ms !== undefined ? h('span', { class: 'muted' }, ` (${t('decisionMs', { ms: r.decision_ms })})`) : null,
          ),
        ),
        h('tr', {}, h('th', {}, t('reason')), h('td', {}, r.reason)),
      ),
    ),
    h('h2', {}, t('candidates')),
    h(
      'table',
      { id: 'candidates' },
      h('thead', {}, h('tr', {}, h('th', {}, t('name')), h('th', {}, t('extension')), h('th', {}, t('score')))),
      h(
        'tbody',
        {},
        ...r.candidates.map((c) => h('tr', {}, h('td', {}, nameOf(c)), h('td', {}, c.extension), h('td', {}, String(c.score)))),
      ),
    ),
    r.models
      ? [
          h('h2', {}, t('models')),
          h(
            'table',
            {},
            h(
              'tbody',
              {},
              ...r.models.map((m) => h('tr', {}, h('th', {}, m.model), h('td', {}, m.heard || '—'), h('td', {}, m.top || ''))),
            ),
          ),
        ]
      : null,
    top
      ? [
          h('h2', {}, t('pronunciation', { name: nameOf(top) })),
          h(
            'table',
            { id: 'pronunciations', class: 'phones' },
            h('thead', {}, h('tr', {}, h('th', {}, t('model')), h('th', {}, t('word')), h('th', {}, t('phones')))),
            h(
              'tbody',
              {},
              ...r.pronunciations.flatMap((p) =>
                p.words.map((w) => h('tr', {}, h('td', {}, p.model), h('td', {}, w.word), h('td', {}, w.phones.join(' · ')))),
              ),
            ),
          ),
          h(
            'p',
            {},
            t('fixName'),
            ' ',
            h('button', { class: 'secondary', id: 'fix-name', onclick: () => editor.open(top) }, t('editEntry')),
          ),
          editor.el,
        ]
      : null,
  );
}

/** Records the microphone for `ms` and returns a 16 kHz mono WAV (drawn up here: no codec needed on the server). */
async function recordWav(ms) {
  const stream = await navigator.mediaDevices.getUserMedia({
    audio: { channelCount: 1, echoCancellation: false, noiseSuppression: false, autoGainControl: false },
  });
  const ctx = new AudioContext();
  const source = ctx.createMediaStreamSource(stream);
  const node = ctx.createScriptProcessor(4096, 1, 1);
  const chunks = [];
  node.onaudioprocess = (e) => chunks.push(new Float32Array(e.inputBuffer.getChannelData(0)));
  source.connect(node);
  node.connect(ctx.destination);
  await new Promise((r) => setTimeout(r, ms));
  node.disconnect();
  source.disconnect();
  stream.getTracks().forEach((tr) => tr.stop());
  const rate = ctx.sampleRate;
  await ctx.close();
  const all = new Float32Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    all.set(c, at);
    at += c.length;
  }
  // Down to 16 kHz by averaging each output sample's span of input samples.
  const step = rate / 16000;
  const out = new Int16Array(Math.floor(all.length / step));
  for (let i = 0; i < out.length; i += 1) {
    const a = Math.floor(i * step);
    const b = Math.max(a + 1, Math.floor((i + 1) * step));
    let sum = 0;
    for (let j = a; j < b; j += 1) sum += all[j];
    out[i] = Math.max(-32768, Math.min(32767, Math.round((sum / (b - a)) * 32767)));
  }
  const buf = new ArrayBuffer(44 + out.byteLength);
  const v = new DataView(buf);
  const str = (o, s) => [...s].forEach((ch, i) => v.setUint8(o + i, ch.charCodeAt(0)));
  str(0, 'RIFF');
  v.setUint32(4, 36 + out.byteLength, true);
  str(8, 'WAVE');
  str(12, 'fmt ');
  v.setUint32(16, 16, true);
  v.setUint16(20, 1, true);
  v.setUint16(22, 1, true);
  v.setUint32(24, 16000, true);
  v.setUint32(28, 32000, true);
  v.setUint16(32, 2, true);
  v.setUint16(34, 16, true);
  str(36, 'data');
  v.setUint32(40, out.byteLength, true);
  new Int16Array(buf, 44).set(out);
  return new Blob([buf], { type: 'audio/wav' });
}

// ---------- Calls ----------

const OUTCOMES = ['transferred', 'operator', 'abandoned', 'failed', 'rejected'];
const COLORS = { transferred: '#3a9d5d', operator: '#e0a526', abandoned: '#9aa3b2', failed: '#c4443b', rejected: '#6d4c9f' };

async function callsView(app) {
  const c = await api('GET', storePath('/calls'));
  const tops = (title, rows, id) =>
    h(
      'div',
      { id },
      h('h2', {}, title),
      rows.length === 0
        ? h('p', { class: 'muted' }, '—')
        : h('ol', {}, ...rows.map((r) => h('li', {}, `${r.name} : ${r.calls} ${t(r.calls === 1 ? 'call' : 'calls')}`))),
    );
  app.replaceChildren(
    h(
      'section',
      {},
      h('h1', {}, t('callsTitle')),
      c.calls.length === 0
        ? h('p', { class: 'muted', id: 'no-calls' }, t('noCalls'))
        : h(
            'table',
            { id: 'calls' },
            h(
              'thead',
              {},
              h(
                'tr',
                {},
                ...['time', 'outcome', 'reached', 'extension', 'how', 'seconds', ...(c.transcripts ? ['said'] : [])].map((k) =>
                  h('th', {}, t(k)),
                ),
              ),
            ),
            h(
              'tbody',
              {},
              ...c.calls.map((r) =>
                h(
                  'tr',
                  {},
                  h('td', {}, new Date(r.at).toLocaleString(state.lang)),
                  h('td', {}, h('span', { class: `badge ${r.outcome}` }, t(`o.${r.outcome}`))),
                  h('td', {}, r.name),
                  h('td', {}, r.extension),
                  h('td', {}, t(`h.${r.how}`)),
                  h('td', {}, String(r.seconds)),
                  c.transcripts ? h('td', {}, (r.heard || []).join(' / ')) : null,
                ),
              ),
            ),
          ),
    ),
    h('section', {}, h('h2', {}, t('perDay')), chart(c.per_day)),
    h('section', { class: 'cols' }, tops(t('mostConfirmed'), c.confirmed, 'confirmed'), tops(t('mostRetried'), c.retried, 'retried')),
    h('section', {}, h('p', {}, t('toOperator', { n: c.operator }))),
  );
}

/** Outcomes per day as stacked bars, drawn as SVG here. */
function chart(days) {
  if (days.length === 0) return h('p', { class: 'muted' }, t('noCalls'));
  const W = 900,
    H = 220,
    pad = 30;
  const max = Math.max(1, ...days.map((d) => OUTCOMES.reduce((n, o) => n + (d[o] || 0), 0)));
  const bw = Math.min(40, (W - pad * 2) / days.length - 4);
  const svg = h('svg', {
    class: 'chart',
    id: 'chart',
    viewBox: `0 0 ${W} ${H + 30}`,
    width: '100%',
    role: 'img',
    'aria-label': t('perDay'),
  });
  svg.append(h('line', { x1: pad, y1: H, x2: W - pad, y2: H, stroke: '#b8c0cc' }), h('text', { x: 2, y: pad - 12 }, String(max)));
  days.forEach((d, i) => {
    const x = pad + i * ((W - pad * 2) / days.length) + 2;
    let y = H;
    for (const o of OUTCOMES) {
      const n = d[o] || 0;
      if (n === 0) continue;
      const bh = ((H - pad) * n) / max;
      y -= bh;
      svg.append(
        h('rect', { x, y, width: bw, height: bh, fill: COLORS[o], 'data-outcome': o }, h('title', {}, `${d.day} ${t(`o.${o}`)} : ${n}`)),
      );
    }
    svg.append(h('text', { x, y: H + 14 }, dayLabel(d.day)));
  });
  const legend = h('div', { class: 'legend' }, ...OUTCOMES.map((o) => h('span', {}, h('i', { class: `c-${o}` }), t(`o.${o}`))));
  return h('div', {}, svg, legend);
}

// ---------- Prompts ----------

async function promptsView(app) {
  const p = await api('GET', storePath('/prompts'));
  const rows = p.prompts.map((pr) => {
    const file = h('input', { type: 'file', accept: '.wav,audio/wav', 'data-key': pr.key });
    const src = storePath(`/prompts/${pr.key}.wav`);
    return h(
      'tr',
      { 'data-key': pr.key },
      h('td', {}, known(`p.${pr.key}`, pr.key)),
      h('td', {}, pr.text),
      h('td', {}, pr.recorded ? t('own') : t('synth')),
      h('td', {}, h('audio', { controls: true, preload: 'none', src: `${src}?t=${Date.now()}` })),
      h(
        'td',
        {},
        file,
        h(
          'button',
          {
            class: 'secondary upload',
            onclick: guard(async () => {
              if (!file.files[0]) return notice(t('chooseFile'), true);
              await api('PUT', storePath(`/prompts/${pr.key}`), undefined, { file: file.files[0] });
              notice(t('promptSaved', { key: pr.key }));
              render();
            }),
          },
          t('upload'),
        ),
        pr.recorded
          ? h(
              'button',
              {
                class: 'danger reset',
                onclick: guard(async () => {
                  await api('DELETE', storePath(`/prompts/${pr.key}`));
                  notice(t('promptReset', { key: pr.key }));
                  render();
                }),
              },
              t('backToSynth'),
            )
          : null,
      ),
    );
  });
  app.replaceChildren(
    h(
      'section',
      {},
      h('h1', {}, t('promptsTitle')),
      h(
        'table',
        { id: 'prompts' },
        h('thead', {}, h('tr', {}, ...['prompt', 'text', 'type', 'listen', 'actions'].map((k) => h('th', {}, t(k))))),
        h('tbody', {}, ...rows),
      ),
    ),
  );
}

document.addEventListener('DOMContentLoaded', () => void start());

/** A catalogue text when there is one for `key`, else the value as it came. */
function known(key, fallback) {
  return T[state.lang][key] !== undefined ? t(key) : fallback;
}

/** Who made a change, as an admin reads it: the command line is "cli" in the data. */
function who(via, actor) {
  if (actor === 'cli' || (via === 'cli' && actor === '')) return known('via.cli', actor);
  return actor;
}

/** A chart day ("2026-12-05") as the console's language writes it: "05/12" or "12/05". */
function dayLabel(day) {
  const [, m, d] = day.split('-');
  return state.lang === 'fr' ? `${d}/${m}` : `${m}/${d}`;
}

/** A history action ("replace", "update", "rollback to 3") in the console's language. */
function actionText(action) {
  const m = /^rollback to (\d+)$/.exec(action);
  return m !== null ? t('act.rollback', { v: m[1] }) : known(`act.${action}`, action);
}
