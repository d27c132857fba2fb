import { createServer, Server } from 'node:http';
import { once } from 'node:events';
import { Settings } from '../config/settings';
import { createLogger } from '../log/logger';
import { DirectoryStore } from '../directory/directory-store';
import { StoreUnderstanding } from '../attendant/understanding';
import { DEMO_STORE, ensureDemoStore } from '../attendant/store-directory';
import { createRecognizer, loadCmudict } from './recognize-command';
import { startGrpcServer } from '../api/directory-service';
import { TokenStore } from '../api/tokens';
import { DropFolder, dropFolderFor } from '../api/drop-folder';
import { EXIT_OK } from './exit-codes';
import type { Io } from './main';

/**
 * `attendant serve`: opens the directory store (loading the demo store when there is
 * none), prepares every store's grammar, starts the recognizer workers, and serves
 * HTTP /healthz, /readyz and /metrics and the gRPC DirectoryService. A directory change over
 * gRPC rebuilds that store's grammar; calls in progress keep the snapshot they started with.
 */
export async function serve(settings: Settings, _io: Io, signal?: AbortSignal): Promise<number> {
  const log = createLogger(settings.logLevel);
  const directory = DirectoryStore.open(settings.dataDir);
  const demoLoaded = directory.listStores().length === 0 && ensureDemoStore(directory);
  log.info(
    { data_dir: settings.dataDir, demo_store: demoLoaded ? DEMO_STORE : undefined },
    demoLoaded
      ? `no store existed: loaded the demo store "${DEMO_STORE}" from directory-fixtures/`
      : `serving ${directory.listStores().length} store(s) from ${settings.dataDir}`,
  );
  let ready = false;
  const stores = new Map<string, StoreUnderstanding>();
  const http = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
    } else if (path === '/readyz') {
      res.writeHead(ready ? 200 : 503, { 'content-type': 'text/plain' }).end(ready ? 'ready\n' : 'starting\n');
    } else if (path === '/metrics') {
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(
        [
          '# HELP attendant_ready 1 when the service can take calls.',
          '# TYPE attendant_ready gauge',
          `attendant_ready ${ready ? 1 : 0}`,
          '# HELP attendant_stores Stores with a directory loaded.',
          '# TYPE attendant_stores gauge',
          `attendant_stores ${stores.size}`,
          '# HELP attendant_directory_version Directory version that new calls of a store use.',
          '# TYPE attendant_directory_version gauge',
          ...[...stores.values()].map((u) => `attendant_directory_version{store="${u.snapshot.store}"} ${u.snapshot.version}`),
          '',
        ].join('\n'),
      );
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
    }
  });
  http.listen(settings.httpPort);
  await once(http, 'listening');
  log.info({ port: settings.httpPort }, 'HTTP /healthz /readyz /metrics listening');

  const recognizer = await createRecognizer(settings, settings.asrWorkers);
  log.info({ engine: recognizer.engine, workers: settings.asrWorkers }, 'recognizer ready');
  const cmudict = loadCmudict();
  const load = async (storeId: string): Promise<void> => {
    const snapshot = directory.snapshot(storeId);
    if (snapshot.entries.length === 0) return;
    const t0 = Date.now();
    stores.set(storeId, await StoreUnderstanding.build(snapshot, cmudict));
    log.info({ store: storeId, version: snapshot.version, entries: snapshot.entries.length, ms: Date.now() - t0 }, 'store grammar ready');
  };
  for (const store of directory.listStores()) await load(store.id);
  const onChange = (storeId: string): void => {
    load(storeId).catch((err: Error) => log.error({ store: storeId, err: err.message }, 'store grammar could not be rebuilt; the previous one stays'));
  };
  const tokens = TokenStore.open(settings.dataDir);
  const drop = new DropFolder(dropFolderFor(settings.dataDir), directory, log, onChange);
  drop.start();
  log.info({ folder: dropFolderFor(settings.dataDir) }, 'watching the drop folder: put a file in drop/<store>/');
  const grpcServer = await startGrpcServer(
    { directory, tokens, log, onChange },
    '0.0.0.0',
    settings.grpcPort,
  );
  log.info({ port: grpcServer.port }, 'gRPC DirectoryService listening');
  ready = true;
  log.info('ready; the SIP edge is not part of this build yet: use `attendant recognize` to try recognition');

  await waitForStop(signal);
  log.info('stopping');
  ready = false;
  await closeServer(http);
  await new Promise<void>((resolve) => grpcServer.server.tryShutdown(() => resolve()));
  tokens.close();
  drop.close();
  await recognizer.close();
  directory.close();
  return EXIT_OK;
}

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
