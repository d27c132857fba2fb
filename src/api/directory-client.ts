import * as grpc from '@grpc/grpc-js';
import { DirectoryEntry } from '../directory/entry';
import { loadProtos } from './grpc';
import { toWire } from './directory-service';

/** A client of the DirectoryService, for `attendant directory push`. */
export interface PushResult {
  version: number;
  entries: number;
  added: number;
  changed: number;
  removed: number;
}

export class PushError extends Error {
  constructor(
    readonly code: grpc.status,
    message: string,
  ) {
    super(message);
    this.name = 'PushError';
  }
}

/** How the client reaches the server: plaintext, or TLS checked against `ca` (PEM; absent: the system's authorities). */
export type Transport = { tls: false } | { tls: true; ca?: Buffer };

export function pushDirectory(
  server: string,
  token: string,
  store: string,
  entries: DirectoryEntry[],
  transport: Transport = { tls: false },
  timeoutMs = 30_000,
): Promise<PushResult> {
  const Service = ((loadProtos().attendant as grpc.GrpcObject).v1 as grpc.GrpcObject).DirectoryService as grpc.ServiceClientConstructor;
  const credentials = transport.tls ? grpc.credentials.createSsl(transport.ca ?? null) : grpc.credentials.createInsecure();
  const client = new Service(server, credentials, { 'grpc.max_send_message_length': 16 * 1024 * 1024 });
  const metadata = new grpc.Metadata();
  metadata.set('authorization', `Bearer ${token}`);
  const request = {
    store,
    entries: entries.map(toWire),
  };
  return new Promise((resolve, reject) => {
    (client as unknown as Record<string, (...a: unknown[]) => void>).SyncDirectory(
      request,
      metadata,
      { deadline: Date.now() + timeoutMs },
      (err: grpc.ServiceError | null, res: PushResult) => {
        client.close();
        if (err) reject(new PushError(err.code, err.details || err.message));
        else resolve(res);
      },
    );
  });
}
