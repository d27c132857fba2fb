import { readFileSync } from 'node:fs';
import { createServer, Server } from 'node:http';
import { once } from 'node:events';
import { Settings } from '../config/settings';
import type { Logger } from 'pino';
import { createLogger } from '../log/logger';
import { Snapshot, Store } from '../directory/directory-store';
import { describeUrl, Storage } from './storage';
import { DatabaseUnavailableError } from '../storage/sql';
import { messageOf } from '../util/errors';
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
import { EXIT_OK, EXIT_UNAVAILABLE, unavailable } from './exit-codes';
import { peerKey, redactSip, SipTransport } from '../sip/transport';
import { SipUserAgent } from '../sip/user-agent';
import { PromptLibrary, RECORDABLE, Prompt } from '../media/prompts';
import { rtpCounters } from '../media/rtp';
import { confirmAnswers } from '../attendant/answers';
import { Switchboard } from '../attendant/switchboard';
import { StoreRegistry } from '../attendant/store-registry';
import { healthHandler } from '../api/health-http';
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
  const storage = await openStorage(settings, log, signal).catch((err: unknown) => {
    process.off('uncaughtException', onUncaught);
    throw err;
  });
  const { directory, tokens, records, recordings } = storage;
  const demoLoaded = (await directory.listStores()).length === 0 && (await ensureDemoStore(directory));
  const storeCount = (await directory.listStores()).length;
  log.info(
    { data_dir: settings.dataDir, database: storage.where, demo_store: demoLoaded ? DEMO_STORE : undefined },
    demoLoaded
      ? `no store existed: loaded the demo store "${DEMO_STORE}" from directory-fixtures/`
      : `serving ${storeCount} store(s) from ${storage.databaseUrl === undefined ? settings.dataDir : storage.where}`,
  );
  let ready = false;
  let switchboard: Switchboard | undefined;
  let consoleServer: ConsoleServer | undefined;
  // A flood must not flood the log: these are counted, and logged at most every 10 s.
  const tcpRefused = new ThrottledWarning(log, 'SIP TCP connection closed');
  const sipForbidden = new ThrottledWarning(log, 'SIP from an address outside ATTENDANT_SIP_ALLOW: 403');
  // The recognition engine and every model are loaded and tried on a test sound before any
  // port opens: a missing or broken model stops here with one line and exit 3.
  const recognizer = await checkedRecognizer(settings, log).catch((err: Error) => {
    process.off('uncaughtException', onUncaught);
    void storage.close();
    throw unavailable(`cannot start: ${err.message}`);
  });
  recognizer.onWorkerExit = (err) =>
    log.error(
      { err, workers: recognizer.size },
      'a recognition worker exited: the utterances it held failed (their callers go to the operator); a new worker is started',
    );
  log.info(
    {
      engine: recognizer.engine,
      profile: recognizer.engine === 'pocketsphinx' ? settings.asrProfile : undefined,
      workers: settings.asrWorkers,
    },
    'recognizer ready',
  );
  const cmudict = loadCmudict();
  const catalog = loadCatalog();
  for (const problem of catalog.problems) log.warn({ problem }, 'a folder in the models directory is not a usable model; it is ignored');
  const lexicons = new StoreLexicons(cmudict, catalog);
  const registry = new StoreRegistry({
    directory,
    recordings,
    log,
    build: (snapshot, store) => buildStore(snapshot, store, lexicons, recognizer, settings, log),
  });
  const metrics = serviceMetrics(
    settings,
    registry,
    recognizer,
    () => ready,
    () => switchboard,
    tcpRefused,
    sipForbidden,
  );
  const http = createServer(
    healthHandler({
      ready: () => ready,
      workers: () => recognizer.size,
      unusable: () => registry.unusable(),
      metrics,
      console: () => consoleServer,
    }),
  );
  /** Failed authentications per address, for gRPC and the console's sign-in alike. */
  const limiter = new FailureLimiter(FAILURE_LIMIT, FAILURE_WINDOW_MS);
  http.listen(settings.httpPort, settings.httpHost);
  await once(http, 'listening');
  log.info({ port: settings.httpPort }, 'HTTP /healthz /readyz /metrics listening');
  await registry.start();

  // The SIP edge and what a call needs: prompts, answers, records.
  const prompts = new PromptLibrary(settings.dataDir, undefined, (file, message) =>
    log.warn(
      { file, err: message },
      'a prompt recording cannot be played: the synthesised prompt is used instead; replace it with a WAV file',
    ),
  );
  const confirm = await confirmAnswers(cmudict);
  // Stores' own recordings, kept in the database for every node: written into each store's
  // prompts folder at start and whenever they change (a notification, or the periodic check).
  const recordingsFailed = (err: Error): void =>
    log.warn({ err }, 'prompt recordings could not be read from the database; the ones held here are played');
  await registry.syncRecordings().catch(recordingsFailed);
  const { transport, ua } = await sipEdge(settings, log, registry, () => ready, tcpRefused, sipForbidden);
  const onChange = (storeId: string): void => registry.reload(storeId);
  const drop = new DropFolder(dropFolderFor(settings.dataDir), directory, log, onChange);
  drop.start();
  log.info({ folder: dropFolderFor(settings.dataDir) }, 'watching the drop folder: put a file in drop/<store>/');
  // Changes made through another process (the CLI, another node) are noticed at once through
  // PostgreSQL notifications, and by a periodic check in case one was missed (every second
  // on SQLite, which has none).
  const listener = storage.listen();
  const watch = registry.watch(listener, storage.databaseUrl === undefined ? 1000 : 5000, recordingsFailed);
  await listener?.start();
  switchboard = new Switchboard({
    ua,
    route: (user) => registry.route(user),
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
  log.info(
    {
      port: transport.port,
      transports: ['udp', 'tcp'],
      rtp_ports: settings.rtpPorts.join('-'),
      rtp_source: settings.rtpSource,
      max_calls: settings.maxCalls,
      sip_allow: settings.sipAllow?.text ?? 'any',
    },
    'SIP edge listening',
  );
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
        stats: (store) => metrics.figures(store),
        health: () => ({ ready, engine: recognizer.engine, stores: registry.size }),
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
    understandingOf: (id) => registry.understandingOf(id),
    recognizer,
    callsInProgress: () => switchboard?.activeCalls ?? 0,
    prompts,
    recordings,
    dataDir: settings.dataDir,
    onChange,
  });
  log.info(
    { url: `http://${settings.httpHost === '0.0.0.0' ? 'localhost' : settings.httpHost}:${settings.httpPort}/` },
    'store console listening (sign in with a store or admin token: attendant token create)',
  );
  ready = true;
  setHealth(grpcServer.health, true);
  log.info({ sip_port: transport.port, http_port: settings.httpPort }, 'ready to take calls');

  await waitForStop(signal);
  log.info(
    { active_calls: board.activeCalls, grace_s: settings.drainSeconds },
    `stopping: new calls and OPTIONS get 503, calls in progress have ${settings.drainSeconds} s to end, then go to the operator`,
  );
  ready = false;
  setHealth(grpcServer.health, false);
  // SIGTERM always ends the process: if closing hangs, or a second signal comes, it exits anyway.
  const forced = (why: string): void => {
    log.error({ why }, 'stopping took too long; exiting now');
    process.exit(EXIT_UNAVAILABLE);
  };
  const watchdog = setTimeout(
    () => forced(`not stopped ${settings.drainSeconds + 20} s after the signal`),
    (settings.drainSeconds + 20) * 1000,
  );
  watchdog.unref();
  const again = (): void => forced('a second stop signal');
  process.once('SIGTERM', again);
  process.once('SIGINT', again);
  await board.drain(settings.drainSeconds * 1000);
  await watch.stop();
  log.info('calls ended; closing');
  ua.close();
  await transport.close();
  const unwritten = records.stop();
  if (unwritten > 0) log.error({ records: unwritten }, 'call records could not be written before the end: the database is still away');
  await closeServer(http);
  process.off('uncaughtException', onUncaught);
  await grpcServer.close();
  drop.close();
  await recognizer.close();
  await storage.close();
  clearTimeout(watchdog);
  process.off('SIGTERM', again);
  process.off('SIGINT', again);
  return EXIT_OK;
}

/**
 * Opens the database. A node with no directory cannot take calls: while PostgreSQL cannot be
 * reached (both sites restarting at once), it waits for it. A wrong password or database
 * stops it at once.
 */
async function openStorage(settings: Settings, log: Logger, signal?: AbortSignal): Promise<Storage> {
  const where =
    settings.databaseUrl === undefined ? `in ${settings.dataDir}` : `(${describeUrl(settings.databaseUrl)}, ATTENDANT_DATABASE_URL)`;
  for (let attempt = 0; ; attempt += 1) {
    try {
      return await Storage.open({ dataDir: settings.dataDir, databaseUrl: settings.databaseUrl });
    } catch (err) {
      if (!(err instanceof DatabaseUnavailableError) || (signal?.aborted ?? false)) {
        throw unavailable(`cannot start: the directory database ${where} cannot be opened: ${messageOf(err)}`);
      }
      if (attempt % 5 === 0) log.error({ database: where, err }, 'waiting for the database: no call is taken until it can be reached');
      await new Promise((r) => setTimeout(r, 2000));
    }
  }
}

/** The SIP edge (UDP and TCP) and its user agent, with the allow list, the trace and the refusal counts. */
async function sipEdge(
  settings: Settings,
  log: Logger,
  registry: StoreRegistry,
  ready: () => boolean,
  tcpRefused: ThrottledWarning,
  sipForbidden: ThrottledWarning,
): Promise<{ transport: SipTransport; ua: SipUserAgent }> {
  const allow = settings.sipAllow;
  // With an allow list, other addresses cannot hold TCP connections, and listed ones are never refused for room.
  const transport = await SipTransport.listen(
    settings.sipHost,
    settings.sipPort,
    allow === undefined ? {} : { allow: (host) => allow.has(host) },
  );
  transport.advertised = settings.sipAdvertised;
  if (log.isLevelEnabled('debug')) {
    // ATTENDANT_LOG_LEVEL=debug: every SIP message in and out, the caller's identity masked.
    // A store's id or number is shown; a caller's identity never, in any message sent or received.
    transport.trace = (direction, data, peer) =>
      log.debug({ sip: direction, peer: peerKey(peer), message: redactSip(data, (user) => registry.isStoreUser(user)) }, 'SIP message');
  }
  // A socket error (a peer unreachable, a full buffer) concerns one message, not the service.
  transport.on('error', (err) => log.warn({ err }, 'SIP transport error'));
  // TCP connections closed by a limit, and requests from addresses outside ATTENDANT_SIP_ALLOW (403).
  transport.on('refused', (reason, peer) => tcpRefused.add({ peer: peerKey(peer), reason }));
  const ua = new SipUserAgent(transport, { allow: allow === undefined ? undefined : (peer) => allow.has(peer.host), available: ready });
  ua.on('refused', (request, status, peer) => {
    if (status === 403) sipForbidden.add({ peer: peerKey(peer), method: request?.method });
  });
  return { transport, ua };
}

/** Builds a store's understanding and loads its grammars in the recognition workers before the version goes live. */
async function buildStore(
  snapshot: Snapshot,
  store: Store,
  lexicons: StoreLexicons,
  recognizer: RecognizerPool,
  settings: Settings,
  log: Logger,
): Promise<StoreUnderstanding> {
  const t0 = Date.now();
  const storeLexicons = lexicons.forLocale(store.locale);
  const understanding = await StoreUnderstanding.build(snapshot, ...storeLexicons);
  const built = Date.now();
  // Loaded before the version goes live: its first call does not wait for the load, and the
  // calls of other stores meanwhile go to the other workers.
  for (const grammar of understanding.grammars) await recognizer.prepare(grammar, settings.storeMemoryLimit);
  const models = storeLexicons.map((l) => l.model);
  log.info(
    {
      store: store.id,
      version: snapshot.version,
      entries: snapshot.entries.length,
      locale: store.locale,
      models,
      ms: Date.now() - t0,
      load_ms: Date.now() - built,
    },
    'store grammar ready',
  );
  if (store.locale === 'fr-FR' && !models.some((m) => m !== 'en-us')) {
    log.warn(
      { store: store.id, models_dir: modelsDir() },
      'no French acoustic model is installed: this French store is heard with the US English model; install one with `attendant models install` (README, "Models")',
    );
  }
  return understanding;
}

/** The service's Prometheus metrics, read from the parts that hold them. */
function serviceMetrics(
  settings: Settings,
  registry: StoreRegistry,
  recognizer: RecognizerPool,
  ready: () => boolean,
  switchboard: () => Switchboard | undefined,
  tcpRefused: ThrottledWarning,
  sipForbidden: ThrottledWarning,
): ServiceMetrics {
  return new ServiceMetrics(
    {
      ready,
      activeCalls: () => switchboard()?.activeCalls ?? 0,
      stores: () =>
        registry.understandings().map((u) => ({
          store: u.snapshot.store,
          version: u.snapshot.version,
          // What its grammars took in one recognition worker when they were loaded.
          grammarBytes: u.grammars.reduce((n, g) => n + (recognizer.memoryOf(g.key) ?? 0), 0),
        })),
      lateMediaTicks: () => switchboard()?.lateMediaTicks ?? 0,
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
