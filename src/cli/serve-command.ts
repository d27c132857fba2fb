import { readFileSync } from 'node:fs';
import { createServer, Server } from 'node:http';
import { once } from 'node:events';
import { Settings } from '../config/settings';
import type { Logger } from 'pino';
import { createLogger } from '../log/logger';
import { Snapshot, Store } from '../directory/directory-store';
import { describeUrl, Storage } from './storage';
import { DatabaseUnavailableError } from '../storage/sql';
import { StoreUnderstanding } from '../attendant/understanding';
import { DEMO_STORE, ensureDemoStore } from '../attendant/store-directory';
import { loadCmudict } from '../asr/store-lexicons';
import { resolveEngine } from '../asr/engine';
import { RecognizerPool } from '../asr/pool';
import { probeEngine } from '../asr/probe';
import { loadCatalog, modelsDir } from '../asr/models';
import { StoreLexicons } from '../asr/store-lexicons';
import { ThrottledWarning } from '../attendant/throttled-warning';
import { FAILURE_LIMIT, FAILURE_WINDOW_MS } from '../api/grpc';
import { setHealth, startGrpcServer } from '../api/grpc-server';
import { FailureLimiter } from '../api/failure-limiter';
import { ConsoleServer } from '../console/console-server';
import { DropFolder, dropFolderFor } from '../api/drop-folder';
import { numberKey, sameNumber } from '../directory/phone-number';
import { EXIT_OK, EXIT_UNAVAILABLE, unavailable } from './exit-codes';
import { peerKey, redactSip, SipTransport } from '../sip/transport';
import { SipUserAgent } from '../sip/user-agent';
import { PromptLibrary, RECORDABLE, Prompt } from '../media/prompts';
import { rtpCounters } from '../media/rtp';
import { confirmAnswers } from '../attendant/answers';
import { RouteResult, Switchboard } from '../attendant/switchboard';
import { ServiceMetrics } from '../attendant/metrics';

/**
 * `attendant serve`: opens the directory store (loading the demo store when there is
 * none), prepares every store's grammar, starts the recognizer workers, and serves calls
 * on the SIP edge (UDP and TCP), HTTP /healthz, /readyz and /metrics, and the gRPC
 * DirectoryService and AttendantService. A directory change rebuilds that store's grammar;
 * calls in progress keep the snapshot they started with.
 */
export async function serve(settings: Settings, signal?: AbortSignal): Promise<number> {
  const log = createLogger(settings.logLevel);
  // Last resort: a bug in one call's code must not take every other call down with the process.
  const onUncaught = (err: Error): void => log.fatal({ err }, 'uncaught error; the service carries on');
  process.on('uncaughtException', onUncaught);
  const where = settings.databaseUrl === undefined ? `in ${settings.dataDir}` : `(${describeUrl(settings.databaseUrl)}, ATTENDANT_DATABASE_URL)`;
  let storage: Storage | undefined;
  // A node with no directory cannot take calls: while PostgreSQL cannot be reached (both
  // sites restarting at once), it waits for it. A wrong password or database stops it at once.
  for (let attempt = 0; storage === undefined; attempt += 1) {
    try {
      storage = await Storage.open({ dataDir: settings.dataDir, databaseUrl: settings.databaseUrl });
    } catch (err) {
      if (err instanceof DatabaseUnavailableError && !(signal?.aborted ?? false)) {
        if (attempt % 5 === 0) log.error({ database: where, err }, 'waiting for the database: no call is taken until it can be reached');
        await new Promise((r) => setTimeout(r, 2000));
        continue;
      }
      process.off('uncaughtException', onUncaught);
      throw unavailable(`cannot start: the directory database ${where} cannot be opened: ${(err as Error).message}`);
    }
  }
  const { directory, tokens, records } = storage;
  const demoLoaded = (await directory.listStores()).length === 0 && (await ensureDemoStore(directory));
  /** Every store's settings, as last read: calls are routed from here, so they go on when the database is away. */
  const known = new Map<string, Store>((await directory.listStores()).map((st) => [st.id, st]));
  log.info(
    { data_dir: settings.dataDir, database: storage.where, demo_store: demoLoaded ? DEMO_STORE : undefined },
    demoLoaded
      ? `no store existed: loaded the demo store "${DEMO_STORE}" from directory-fixtures/`
      : `serving ${known.size} store(s) from ${storage.databaseUrl === undefined ? settings.dataDir : storage.where}`,
  );
  let ready = false;
  /** Stores whose current version could not be built, and that version. */
  const failed = new Map<string, number>();
  const stores = new Map<string, StoreUnderstanding>();
  const numbers = new Map<string, string>();
  let switchboard: Switchboard | undefined;
  // A flood must not flood the log: these are counted, and logged at most every 10 s.
  const tcpRefused = new ThrottledWarning(log, 'SIP TCP connection closed');
  const sipForbidden = new ThrottledWarning(log, 'SIP from an address outside ATTENDANT_SIP_ALLOW: 403');
  const metrics = new ServiceMetrics(
    {
      ready: () => ready,
      activeCalls: () => switchboard?.activeCalls ?? 0,
      stores: () =>
        [...stores.values()].map((u) => ({
          store: u.snapshot.store,
          version: u.snapshot.version,
          // What its grammars took in one recognition worker when they were loaded.
          grammarBytes: u.grammars.reduce((n, g) => n + (recognizer.memoryOf(g.key) ?? 0), 0),
        })),
      lateMediaTicks: () => switchboard?.lateMediaTicks ?? 0,
      rtpDropped: () => rtpCounters.dropped,
      tcpRefused: () => tcpRefused.count,
      sipForbidden: () => sipForbidden.count,
      fastUtterances: () => recognizer.fastUtterances,
      asr: {
        workers: () => recognizer.size,
        backlog: () => recognizer.inFlight,
        exits: () => recognizer.workerExits,
        residentBytes: () => recognizer.pids.reduce((n, pid) => n + residentBytes(pid), 0),
      },
    },
    settings.metricsStores,
  );
  const http = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/healthz') {
      // Alive while recognition workers are: a dead one is replaced, none at all is not healthy.
      const alive = recognizer.size > 0;
      res.writeHead(alive ? 200 : 503, { 'content-type': 'text/plain' }).end(alive ? 'ok\n' : 'no recognition worker\n');
    } else if (path === '/readyz') {
      // Not ready while starting or draining, nor while a store this node serves cannot take
      // calls (its grammar could not be built and no earlier version is held).
      const unusable = ready ? [...failed.keys()].filter((id) => known.has(id) && !stores.has(id)) : [];
      const ok = ready && unusable.length === 0;
      res
        .writeHead(ok ? 200 : 503, { 'content-type': 'text/plain' })
        .end(ok ? 'ready\n' : ready ? `store${unusable.length > 1 ? 's' : ''} ${unusable.join(', ')} cannot take calls: see the log\n` : 'starting\n');
    } else if (path === '/metrics') {
      metrics
        .text()
        .then((text) => res.writeHead(200, { 'content-type': metrics.contentType }).end(text))
        .catch((err: Error) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`${err.message}\n`));
    } else if (consoleServer === undefined || !consoleServer.handle(req, res)) {
      const starting = consoleServer === undefined && (path === '/' || path.startsWith('/api/') || path.startsWith('/console/'));
      res.writeHead(starting ? 503 : 404, { 'content-type': 'text/plain' }).end(starting ? 'starting\n' : 'not found\n');
    }
  });
  /** The store console at / (set once the stores are loaded). */
  let consoleServer: ConsoleServer | undefined;
  /** Failed authentications per address, for gRPC and the console's sign-in alike. */
  const limiter = new FailureLimiter(FAILURE_LIMIT, FAILURE_WINDOW_MS);
  // The recognition engine and every model are loaded and tried on a test sound before any
  // port opens: a missing or broken model stops here with one line and exit 3.
  const recognizer = await checkedRecognizer(settings, log).catch((err: Error) => {
    process.off('uncaughtException', onUncaught);
    void storage.close();
    throw unavailable(`cannot start: ${err.message}`);
  });
  http.listen(settings.httpPort, settings.httpHost);
  await once(http, 'listening');
  log.info({ port: settings.httpPort }, 'HTTP /healthz /readyz /metrics listening');

  recognizer.onWorkerExit = (err) => log.error({ err, workers: recognizer.size }, 'a recognition worker exited: the utterances it held failed (their callers go to the operator); a new worker is started');
  log.info({ engine: recognizer.engine, profile: recognizer.engine === 'pocketsphinx' ? settings.asrProfile : undefined, workers: settings.asrWorkers }, 'recognizer ready');
  const cmudict = loadCmudict();
  const catalog = loadCatalog();
  for (const problem of catalog.problems) log.warn({ problem }, 'a folder in the models directory is not a usable model; it is ignored');
  const lexicons = new StoreLexicons(cmudict, catalog);
  /** A store with no enabled entry needs no grammar: its calls are answered and sent to its operator. */
  const emptyStore = (snapshot: Snapshot): StoreUnderstanding | undefined =>
    snapshot.entries.some((e) => e.enabled) ? undefined : StoreUnderstanding.empty(snapshot);
  /** Numbers of a store, as the routing table knows them. */
  const setNumbers = (store: Store): void => {
    for (const [number, id] of numbers) if (id === store.id) numbers.delete(number);
    // By what each number stands for (E.164 in the store's country): a PBX may send any of its forms.
    for (const number of store.numbers) numbers.set(numberKey(number, store.locale), store.id);
  };
  const storeOfNumber = (user: string): string | undefined => {
    for (const locale of new Set([...known.values()].map((st) => st.locale))) {
      const id = numbers.get(numberKey(user, locale));
      if (id !== undefined) return id;
    }
    return [...known.values()].find((st) => st.numbers.some((n) => sameNumber(user, n, st.locale)))?.id;
  };
  const load = async (storeId: string): Promise<void> => {
    const store = await directory.findStore(storeId);
    if (store === undefined) {
      // Deleted (here or on another node): its calls get 404 from now on.
      known.delete(storeId);
      stores.delete(storeId);
      for (const [number, id] of numbers) if (id === storeId) numbers.delete(number);
      log.info({ store: storeId }, 'store deleted: it takes no more calls');
      return;
    }
    const held = stores.get(storeId);
    // Nothing changed since the last load (a check and a notification for one change).
    if (held !== undefined && held.snapshot.version === store.version && JSON.stringify(known.get(storeId)) === JSON.stringify(store)) return;
    const snapshot = await directory.snapshot(storeId, store.version);
    const empty = emptyStore(snapshot);
    if (empty !== undefined) {
      stores.set(storeId, empty);
      known.set(storeId, store);
      failed.delete(storeId);
      setNumbers(store);
      log.warn({ store: storeId, version: snapshot.version }, 'the store has no enabled directory entry: its calls go to the operator; import a directory (attendant directory import)');
      return;
    }
    const t0 = Date.now();
    const locale = store.locale;
    const storeLexicons = lexicons.forLocale(locale);
    const understanding = await StoreUnderstanding.build(snapshot, ...storeLexicons);
    const built = Date.now();
    // Loaded in the recognition workers before the version goes live: its first call does
    // not wait for the load, and the calls of other stores meanwhile go to the other workers.
    for (const grammar of understanding.grammars) await recognizer.prepare(grammar, settings.storeMemoryLimit);
    stores.set(storeId, understanding);
    known.set(storeId, store);
    failed.delete(storeId);
    setNumbers(store);
    const models = storeLexicons.map((l) => l.model);
    log.info(
      { store: storeId, version: snapshot.version, entries: snapshot.entries.length, locale, models, ms: Date.now() - t0, load_ms: Date.now() - built },
      'store grammar ready',
    );
    if (locale === 'fr-FR' && !models.some((m) => m !== 'en-us')) {
      log.warn({ store: storeId, models_dir: modelsDir() }, 'no French acoustic model is installed: this French store is heard with the US English model; install one with `attendant models install` (README, "Models")');
    }
  };
  // One store that cannot be built must not keep the others from taking calls.
  for (const id of known.keys()) {
    await load(id).catch((err: Error) => {
      failed.set(id, known.get(id)?.version ?? 0);
      log.error({ store: id, version: known.get(id)?.version, err }, 'store grammar could not be built: its calls get 503 and /readyz says so until a new version is imported');
    });
  }

  // The SIP edge and what a call needs: prompts, answers, records.
  const prompts = new PromptLibrary(settings.dataDir, undefined, (file, message) =>
    log.warn({ file, err: message }, 'a prompt recording cannot be played: the synthesised prompt is used instead; replace it with a WAV file'),
  );
  const confirm = await confirmAnswers(cmudict);
  // Stores' own recordings, kept in the database for every node: written into each store's
  // prompts folder at start and whenever they change (a notification, or the periodic check).
  const { recordings } = storage;
  let recordingDigests = new Map<string, string>();
  const syncRecordings = async (only?: string): Promise<void> => {
    if (only !== undefined) {
      await recordings.materialize(only);
      return;
    }
    const now = await recordings.digests();
    for (const id of new Set([...now.keys(), ...recordingDigests.keys()])) if (now.get(id) !== recordingDigests.get(id)) await recordings.materialize(id);
    recordingDigests = now;
  };
  const recordingsFailed = (err: Error): void => log.warn({ err }, 'prompt recordings could not be read from the database; the ones held here are played');
  await syncRecordings().catch(recordingsFailed);
  const allow = settings.sipAllow;
  // With an allow list, other addresses cannot hold TCP connections, and listed ones are never refused for room.
  const transport = await SipTransport.listen(settings.sipHost, settings.sipPort, allow === undefined ? {} : { allow: (host) => allow.has(host) });
  transport.advertised = settings.sipAdvertised;
  if (log.isLevelEnabled('debug')) {
    // ATTENDANT_LOG_LEVEL=debug: every SIP message in and out, the caller's identity masked.
    // A store's id or number is shown; a caller's identity never, in any message sent or received.
    const storeUser = (user: string): boolean => known.has(user) || storeOfNumber(user) !== undefined;
    transport.trace = (direction, data, peer) => log.debug({ sip: direction, peer: peerKey(peer), message: redactSip(data, storeUser) }, 'SIP message');
  }
  // A socket error (a peer unreachable, a full buffer) concerns one message, not the service.
  transport.on('error', (err) => log.warn({ err }, 'SIP transport error'));
  // TCP connections closed by a limit, and requests from addresses outside ATTENDANT_SIP_ALLOW (403).
  transport.on('refused', (reason, peer) => tcpRefused.add({ peer: peerKey(peer), reason }));
  const ua = new SipUserAgent(transport, { allow: allow === undefined ? undefined : (peer) => allow.has(peer.host), available: () => ready });
  ua.on('refused', (request, status, peer) => {
    if (status === 403) sipForbidden.add({ peer: peerKey(peer), method: request?.method });
  });
  // While a store's new version is being built its calls use the previous one (a store never
  // loaded gets 503 meanwhile). A version that cannot be built is not tried again.
  const loading = new Set<string>();
  /** A store changed again while it was loading: load it once more when that load ends. */
  const changedAgain = new Set<string>();
  const reload = (id: string, version?: number): void => {
    if (loading.has(id)) {
      changedAgain.add(id);
      return;
    }
    if (version !== undefined && failed.get(id) === version) return;
    loading.add(id);
    load(id)
      .catch((err: Error) => {
        const at = known.get(id)?.version;
        if (!(err instanceof DatabaseUnavailableError) && at !== undefined) failed.set(id, at);
        log.error({ store: id, version: at, err }, 'store grammar could not be built; its calls keep the previous version');
      })
      .finally(() => {
        loading.delete(id);
        if (changedAgain.delete(id)) reload(id);
      });
  };
  const onChange = (storeId: string): void => reload(storeId);
  const drop = new DropFolder(dropFolderFor(settings.dataDir), directory, log, onChange);
  drop.start();
  log.info({ folder: dropFolderFor(settings.dataDir) }, 'watching the drop folder: put a file in drop/<store>/');
  // Changes made through another process (the CLI, another node) are noticed at once through
  // PostgreSQL notifications, and by a periodic check in case one was missed (every second
  // on SQLite, which has none).
  let databaseUp = true;
  const check = async (): Promise<void> => {
    try {
      const now = await directory.listStores();
      if (!databaseUp) log.info({ database: storage.where }, 'the database is back: changes are taken again');
      databaseUp = true;
      const ids = new Set(now.map((st) => st.id));
      for (const st of now) {
        const held = known.get(st.id);
        if (stores.get(st.id)?.snapshot.version !== st.version || JSON.stringify(held) !== JSON.stringify(st)) reload(st.id, st.version);
      }
      for (const id of known.keys()) if (!ids.has(id)) reload(id);
      await syncRecordings();
    } catch (err) {
      if (databaseUp) log.error({ database: storage.where, err }, 'the database cannot be reached: calls go on with the directories held here, changes are refused');
      databaseUp = false;
    }
  };
  let checking = false;
  const watch = setInterval(() => {
    if (checking) return;
    checking = true;
    void check().finally(() => (checking = false));
  }, storage.databaseUrl === undefined ? 1000 : 5000);
  watch.unref();
  const listener = storage.listen();
  if (listener !== undefined) {
    listener.on('change', (id: string) => {
      reload(id);
      void syncRecordings(id).catch(recordingsFailed);
    });
    listener.on('lost', (err: Error) => log.warn({ err }, 'lost the database notifications; reconnecting (changes are checked every 5 s meanwhile)'));
    listener.on('reconnected', () => {
      log.info('database notifications back');
      void check();
    });
    await listener.start();
  }
  const routeKnown = (store: Store): RouteResult => {
    const understanding = stores.get(store.id);
    if (understanding === undefined || understanding.snapshot.version !== store.version) reload(store.id);
    return understanding === undefined ? 'loading' : { store, understanding };
  };
  const route = (user: string): RouteResult | Promise<RouteResult> => {
    const id = known.has(user) ? user : storeOfNumber(user);
    const store = id === undefined ? undefined : known.get(id);
    if (store !== undefined) return routeKnown(store);
    // A store created a moment ago (the CLI, another node) is answered at once: an empty one
    // goes to its operator, one with a directory gets 503 until its grammar is built.
    return (async (): Promise<RouteResult> => {
      try {
        const found = await directory.resolveStore(user);
        if (found === undefined) return undefined;
        if (!known.has(found.id)) {
          const empty = emptyStore(await directory.snapshot(found.id, found.version));
          if (empty !== undefined && !stores.has(found.id)) {
            stores.set(found.id, empty);
            known.set(found.id, found);
            setNumbers(found);
          }
        }
        return routeKnown(known.get(found.id) ?? found);
      } catch (err) {
        // The database away: a store never seen here cannot be served by this node.
        log.warn({ err }, 'a call for a store not held here could not be looked up');
        return 'loading';
      }
    })();
  };
  switchboard = new Switchboard({
    ua,
    route,
    recognizer,
    confirm,
    cmudict,
    prompts,
    records,
    dataDir: settings.dataDir,
    rtpHost: settings.sipHost,
    rtpPorts: settings.rtpPorts,
    rtpSource: settings.rtpSource,
    maxCalls: settings.maxCalls,
    observe: metrics,
    // More than MAX_BACKLOG utterances waiting per worker: about a second of delay already.
    overloaded: () => recognizer.backlog >= MAX_BACKLOG_PER_WORKER * recognizer.size,
    log,
  });
  log.info({ port: transport.port, transports: ['udp', 'tcp'], rtp_ports: settings.rtpPorts.join('-'), rtp_source: settings.rtpSource, max_calls: settings.maxCalls, sip_allow: allow?.text ?? 'any' }, 'SIP edge listening');
  // Synthesise the fixed prompts now rather than on the first call.
  const fixed: Prompt[] = RECORDABLE.map((key) => ({ key }) as Prompt);
  await Promise.all(fixed.flatMap((p) => [prompts.render(p, 'fr-FR'), prompts.render(p, 'en-US')])).catch((err: Error) =>
    log.warn({ err }, 'prompts could not be prepared; calls will go on without them'),
  );
  const board = switchboard;
  const grpcServer = await startGrpcServer(
    {
      directory,
      tokens,
      log,
      onChange,
      limiter,
      attendant: {
        listCalls: (store, limit) => records.list(store, limit),
        stats: (store) => {
          const { p50, p95 } = board.decisionLatency(store);
          const st = store === undefined ? board.stats : board.storeStats(store);
          return { active: st.active, total: st.total, byOutcome: st.byOutcome, p50, p95 };
        },
        health: () => ({ ready, engine: recognizer.engine, stores: stores.size }),
      },
    },
    settings.grpcHost,
    settings.grpcPort,
    settings.grpcTls,
  );
  log.info({ port: grpcServer.port, tls: settings.grpcTls !== undefined }, 'gRPC DirectoryService and AttendantService listening');
  consoleServer = new ConsoleServer({
    directory,
    tokens,
    records,
    limiter,
    log,
    understandingOf: (id) => stores.get(id),
    recognizer,
    prompts,
    recordings,
    dataDir: settings.dataDir,
    onChange,
  });
  log.info({ url: `http://${settings.httpHost === '0.0.0.0' ? 'localhost' : settings.httpHost}:${settings.httpPort}/` }, 'store console listening (sign in with a store or admin token: attendant token create)');
  ready = true;
  setHealth(grpcServer.health, true);
  log.info({ sip_port: transport.port, http_port: settings.httpPort }, 'ready to take calls');

  await waitForStop(signal);
  log.info({ active_calls: board.activeCalls, grace_s: settings.drainSeconds }, `stopping: new calls and OPTIONS get 503, calls in progress have ${settings.drainSeconds} s to end, then go to the operator`);
  ready = false;
  setHealth(grpcServer.health, false);
  // SIGTERM always ends the process: if closing hangs, or a second signal comes, it exits anyway.
  const forced = (why: string): void => {
    log.error({ why }, 'stopping took too long; exiting now');
    process.exit(EXIT_UNAVAILABLE);
  };
  const watchdog = setTimeout(() => forced(`not stopped ${settings.drainSeconds + 20} s after the signal`), (settings.drainSeconds + 20) * 1000);
  watchdog.unref();
  const again = (): void => forced('a second stop signal');
  process.once('SIGTERM', again);
  process.once('SIGINT', again);
  await board.drain(settings.drainSeconds * 1000);
  clearInterval(watch);
  log.info('calls ended; closing');
  ua.close();
  await transport.close();
  const unwritten = records.stop();
  if (unwritten > 0) log.error({ records: unwritten }, 'call records could not be written before the end: the database is still away');
  await closeServer(http);
  process.off('uncaughtException', onUncaught);
  await new Promise<void>((resolve) => grpcServer.server.tryShutdown(() => resolve()));
  drop.close();
  await listener?.close();
  await recognizer.close();
  await storage.close();
  clearTimeout(watchdog);
  process.off('SIGTERM', again);
  process.off('SIGINT', again);
  return EXIT_OK;
}

/** The recognizer pool, once the engine and every model decoded a test sound in a separate process. */
async function checkedRecognizer(settings: Settings, log: Logger): Promise<RecognizerPool> {
  const spec = resolveEngine(settings.asrEngine, settings.voskModel, settings.asrProfile);
  log.info({ checked: await probeEngine(spec) }, 'models loaded and tried on a test sound');
  // Callers' answers get a worker of their own: they never wait for a name's decode to end.
  return RecognizerPool.create(spec, settings.asrWorkers, { answerWorker: true });
}

/** A process's resident memory in bytes (Linux /proc), 0 when it is gone. */
function residentBytes(pid: number): number {
  try {
    return Number(readFileSync(`/proc/${pid}/statm`, 'utf8').split(' ')[1]) * 4096;
  } catch {
    return 0;
  }
}

/** Utterances waiting per recognition worker beyond which new calls are refused (503). */
const MAX_BACKLOG_PER_WORKER = 2;

function waitForStop(signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const stop = (): void => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    signal?.addEventListener('abort', stop, { once: true });
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

