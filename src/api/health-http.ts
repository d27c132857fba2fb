import { IncomingMessage, ServerResponse } from 'node:http';

export interface HealthState {
  /** Started and not draining. */
  ready(): boolean;
  /** Recognition workers alive: a dead one is replaced, none at all is not healthy. */
  workers(): number;
  /** Stores this node serves that cannot take calls (StoreRegistry.unusable). */
  unusable(): string[];
  metrics: { text(): Promise<string>; contentType: string };
  /** The store console (its handle answers true when the request was its own); undefined while starting. */
  console?: () => { handle(req: IncomingMessage, res: ServerResponse): boolean } | undefined;
}

/**
 * The HTTP port's requests: /healthz (alive), /readyz (taking calls), /metrics
 * (Prometheus), and the rest to the store console once it is up ("starting" until then).
 */
export function healthHandler(state: HealthState): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/healthz') {
      const alive = state.workers() > 0;
      res.writeHead(alive ? 200 : 503, { 'content-type': 'text/plain' }).end(alive ? 'ok\n' : 'no recognition worker\n');
    } else if (path === '/readyz') {
      // Not ready while starting or draining, nor while a store this node serves cannot take
      // calls (its grammar could not be built and no earlier version is held).
      const ready = state.ready();
      const unusable = ready ? state.unusable() : [];
      const ok = ready && unusable.length === 0;
      res
        .writeHead(ok ? 200 : 503, { 'content-type': 'text/plain' })
        .end(
          ok
            ? 'ready\n'
            : ready
              ? `store${unusable.length > 1 ? 's' : ''} ${unusable.join(', ')} cannot take calls: see the log\n`
              : 'starting\n',
        );
    } else if (path === '/metrics') {
      state.metrics
        .text()
        .then((text) => res.writeHead(200, { 'content-type': state.metrics.contentType }).end(text))
        .catch((err: Error) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`${err.message}\n`));
    } else {
      const app = state.console?.();
      if (app !== undefined && app.handle(req, res)) return;
      const starting = app === undefined && (path === '/' || path.startsWith('/api/') || path.startsWith('/console/'));
      res.writeHead(starting ? 503 : 404, { 'content-type': 'text/plain' }).end(starting ? 'starting\n' : 'not found\n');
    }
  };
}
