import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { join } from 'node:path';
import { TransferRequest, TransferResult, Transferrer } from './transfer';

/**
 * Transfer through the PBX's gRPC hooks (protos/attendant/v1/pbx_hooks.proto):
 * `PbxHooks.TransferCall`, with a deadline; not accepted, unreachable or late all count as
 * a failed transfer (the caller goes to the operator).
 */

const PROTO_DIR = join(__dirname, '..', '..', '..', 'protos');
export const HOOKS_DEADLINE_MS = 3000;

export interface TransferCallRequest {
  store: string;
  call_id: string;
  sip_call_id: string;
  extension: string;
  caller: string;
}

export interface TransferCallResponse {
  accepted: boolean;
  reason: string;
}

type HooksClient = grpc.Client & {
  TransferCall(
    req: TransferCallRequest,
    options: grpc.CallOptions,
    cb: (err: grpc.ServiceError | null, res?: TransferCallResponse) => void,
  ): void;
};

let definition: grpc.GrpcObject | undefined;

/** The attendant.v1 package with PbxHooks (for the client here and for test servers). */
export function loadPbxHooks(): grpc.GrpcObject {
  definition ??= grpc.loadPackageDefinition(
    protoLoader.loadSync(join(PROTO_DIR, 'attendant', 'v1', 'pbx_hooks.proto'), {
      keepCase: true,
      longs: Number,
      defaults: true,
      includeDirs: [PROTO_DIR],
    }),
  );
  return definition;
}

export function pbxHooksService(): grpc.ServiceDefinition {
  const pkg = (loadPbxHooks().attendant as grpc.GrpcObject).v1 as grpc.GrpcObject;
  return (pkg.PbxHooks as grpc.ServiceClientConstructor).service;
}

export class GrpcHooksTransferrer implements Transferrer {
  readonly mode = 'grpc' as const;
  private readonly clients = new Map<string, HooksClient>();

  constructor(private readonly deadlineMs = HOOKS_DEADLINE_MS) {}

  private client(address: string): HooksClient {
    let client = this.clients.get(address);
    if (client === undefined) {
      const pkg = (loadPbxHooks().attendant as grpc.GrpcObject).v1 as grpc.GrpcObject;
      const Ctor = pkg.PbxHooks as grpc.ServiceClientConstructor;
      client = new Ctor(address, grpc.credentials.createInsecure()) as unknown as HooksClient;
      this.clients.set(address, client);
    }
    return client;
  }

  transfer(request: TransferRequest): Promise<TransferResult> {
    if (request.hooks === '')
      return Promise.resolve({
        ok: false,
        unreachable: true,
        reason: 'the store transfers by gRPC but has no hooks address (--hooks HOST:PORT)',
      });
    const message: TransferCallRequest = {
      store: request.store,
      call_id: request.callId,
      sip_call_id: request.sipCallId,
      extension: request.extension,
      caller: request.caller,
    };
    return new Promise((resolve) => {
      this.client(request.hooks).TransferCall(message, { deadline: Date.now() + this.deadlineMs }, (err, res) => {
        if (err !== null)
          resolve({
            ok: false,
            unreachable: true,
            reason: `PbxHooks.TransferCall at ${request.hooks} failed: ${err.details || err.message}`,
          });
        else if (res?.accepted !== true) resolve({ ok: false, reason: `PbxHooks refused: ${res?.reason ?? 'no reason given'}` });
        else resolve({ ok: true, reason: 'accepted by PbxHooks' });
      });
    });
  }

  close(): void {
    for (const c of this.clients.values()) c.close();
    this.clients.clear();
  }
}
