import * as grpc from '@grpc/grpc-js';
import { CallRecord } from '../attendant/call-records';
import { Authorizer, Handler, toStatus } from './grpc';

/**
 * The gRPC AttendantService (protos/attendant/v1/attendant.proto), for operations:
 * ListCalls and GetStats (a store's token for its own store only, or an admin token) and
 * Health (no token: load balancers probe it; without one it says only whether attendant serves).
 */

export interface AttendantBackend {
  listCalls(store: string, limit: number): Promise<CallRecord[]>;
  /** Every store's figures, or one store's. */
  stats(store?: string): { active: number; total: number; byOutcome: Record<string, number>; p50: number; p95: number };
  health(): { ready: boolean; engine: string; stores: number };
}

const callToWire = (c: CallRecord): Record<string, unknown> => ({
  call_id: c.callId,
  store: c.store,
  started_at: c.startedAt,
  ended_at: c.endedAt,
  outcome: c.outcome,
  extension: c.extension,
  entry_id: c.entryId,
  path: c.path,
  duration_ms: c.durationMs,
  decision_ms: c.decisionMs,
  transcripts: c.transcripts,
  transfer: c.transfer,
});

export function attendantServiceHandlers(backend: AttendantBackend, authorize: Authorizer): Record<string, Handler<never, unknown>> {
  const listCalls: Handler<{ store: string; limit: number }, unknown> = async (call, callback) => {
    try {
      await authorize(call as grpc.ServerUnaryCall<unknown, unknown>, call.request.store);
      const limit = call.request.limit === 0 ? 50 : Math.min(1000, call.request.limit);
      callback(null, { calls: (await backend.listCalls(call.request.store, limit)).map(callToWire) });
    } catch (err) {
      callback(toStatus(err));
    }
  };
  const getStats: Handler<{ store?: string }, unknown> = async (call, callback) => {
    try {
      const asked = call.request.store ?? '';
      const token = await authorize(call as grpc.ServerUnaryCall<unknown, unknown>, asked === '' ? null : asked);
      // A store's token sees its own store, whatever it asked for.
      const store = token.store ?? (asked === '' ? undefined : asked);
      const s = backend.stats(store);
      callback(null, {
        active_calls: s.active,
        calls_total: s.total,
        calls_by_outcome: s.byOutcome,
        decision_ms_p50: s.p50,
        decision_ms_p95: s.p95,
        store: store ?? '',
      });
    } catch (err) {
      callback(toStatus(err));
    }
  };
  // Without a valid token, only whether attendant serves: its engine and store count are not for anyone who asks.
  const health: Handler<unknown, unknown> = async (call, callback) => {
    const { ready, engine, stores } = backend.health();
    const authorized =
      call.metadata.get('authorization').length > 0 &&
      (await authorize(call as grpc.ServerUnaryCall<unknown, unknown>, null).then(
        () => true,
        () => false,
      ));
    callback(null, authorized ? { ready, engine, stores } : { ready, engine: '', stores: 0 });
  };
  return { ListCalls: listCalls, GetStats: getStats, Health: health } as Record<string, Handler<never, unknown>>;
}
