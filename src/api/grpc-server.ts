import * as grpc from '@grpc/grpc-js';
import { once } from 'node:events';
import { AddressInfo, createServer } from 'node:net';
import { HealthImplementation } from 'grpc-health-check';
import { ReflectionService } from '@grpc/reflection';
import { AttendantBackend, attendantServiceHandlers } from './attendant-service';
import { DirectoryServiceOptions, directoryServiceHandlers } from './directory-service';
import { FailureLimiter } from './failure-limiter';
import {
  authenticateFirst,
  createAuthorizer,
  loadDefinition,
  MAX_CONCURRENT_STREAMS,
  MAX_CONNECTIONS_PER_ADDRESS,
  MAX_MESSAGE_BYTES,
} from './grpc';

/** Starts a gRPC server with the DirectoryService on `host:port` (port 0: any free port). */
export async function startGrpcServer(
  options: DirectoryServiceOptions & {
    attendant?: AttendantBackend;
    limiter?: FailureLimiter;
    /** Told of each connection refused for its address's count (MAX_CONNECTIONS_PER_ADDRESS). */
    onRefusedConnection?: (address: string) => void;
  },
  host: string,
  port: number,
  tls?: { cert: Buffer; key: Buffer },
): Promise<{ server: grpc.Server; port: number; health: HealthImplementation; close: () => Promise<void> }> {
  const definition = loadDefinition();
  const protos = grpc.loadPackageDefinition(definition);
  const v1 = (protos.attendant as grpc.GrpcObject).v1 as grpc.GrpcObject;
  const service = v1.DirectoryService as grpc.ServiceClientConstructor;
  // One failed-authentication count per peer for every service.
  const authorize = createAuthorizer(options.tokens, options.log, options.limiter);
  const server = new grpc.Server({
    'grpc.max_receive_message_length': MAX_MESSAGE_BYTES,
    'grpc.max_concurrent_streams': MAX_CONCURRENT_STREAMS,
    interceptors: [authenticateFirst(authorize)],
  });
  server.addService(service.service, directoryServiceHandlers(options, authorize) as unknown as grpc.UntypedServiceImplementation);
  if (options.attendant !== undefined) {
    const attendant = v1.AttendantService as grpc.ServiceClientConstructor;
    server.addService(
      attendant.service,
      attendantServiceHandlers(options.attendant, authorize) as unknown as grpc.UntypedServiceImplementation,
    );
  }
  // Server reflection, so that grpcurl-style clients can list and call the service.
  new ReflectionService(definition).addToServer(server);
  // The standard grpc.health.v1 service (load balancers, grpc_health_probe): NOT_SERVING until the caller says ready.
  const names = ['', 'attendant.v1.DirectoryService', ...(options.attendant !== undefined ? ['attendant.v1.AttendantService'] : [])];
  const health = new HealthImplementation(Object.fromEntries(names.map((n) => [n, 'NOT_SERVING' as const])));
  health.addToServer(server);
  // Our own listener, which counts connections per address, hands each accepted one to the
  // server: grpc-js limits streams per connection, not connections per client.
  const credentials =
    tls === undefined
      ? grpc.ServerCredentials.createInsecure()
      : grpc.ServerCredentials.createSsl(null, [{ cert_chain: tls.cert, private_key: tls.key }], false);
  const injector = server.createConnectionInjector(credentials);
  const open = new Map<string, number>();
  const listener = createServer((socket) => {
    const address = FailureLimiter.addressOf(socket.remoteAddress ?? '');
    const n = open.get(address) ?? 0;
    if (n >= MAX_CONNECTIONS_PER_ADDRESS) {
      socket.destroy();
      options.onRefusedConnection?.(address);
      return;
    }
    open.set(address, n + 1);
    socket.once('close', () => {
      const left = (open.get(address) ?? 1) - 1;
      if (left <= 0) open.delete(address);
      else open.set(address, left);
    });
    injector.injectConnection(socket);
  });
  listener.listen(port, host);
  await once(listener, 'listening');
  const bound = (listener.address() as AddressInfo).port;
  // No new connection from now; the open ones end with the server's shutdown (the listener's
  // close waits for them, so it is awaited after).
  const close = async (): Promise<void> => {
    const listenerClosed = new Promise<void>((resolve) => listener.close(() => resolve()));
    await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
    await listenerClosed;
  };
  return { server, port: bound, health, close };
}

/** Sets every service of a server's grpc.health.v1 at once. */
export function setHealth(health: HealthImplementation, serving: boolean): void {
  for (const n of ['', 'attendant.v1.DirectoryService', 'attendant.v1.AttendantService'])
    health.setStatus(n, serving ? 'SERVING' : 'NOT_SERVING');
}
