import type { CallOutcome } from './call-records';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { percentile } from './percentile';

/**
 * `/metrics` (Prometheus text format) through prom-client: the process and Node metrics, the
 * calls, and the service's counters. Store ids appear only as labels of the `attendant_store_*`
 * metrics, and only when ATTENDANT_METRICS_STORES=on: an unauthenticated scrape must not list
 * the stores (issue 14).
 */

export interface MetricsSources {
  ready: () => boolean;
  activeCalls: () => number;
  /** Stores loaded, with the directory version their new calls use and the memory of its grammars in one worker. */
  stores: () => { store: string; version: number; grammarBytes?: number }[];
  lateMediaTicks: () => number;
  rtpDropped: () => number;
  tcpRefused: () => number;
  sipForbidden: () => number;
  fastUtterances: () => number;
  /** The recognition worker pool: live workers, utterances waiting, exits, workers' memory. */
  asr?: { workers: () => number; backlog: () => number; exits: () => number; residentBytes: () => number };
}

/** What the switchboard reports as calls go (SwitchboardOptions.observe). */
export interface CallObserver {
  refused(status: number): void;
  /** A call answered for a store. */
  taken?(store: string): void;
  decided(store: string, ms: number): void;
  /** An utterance heard early (CallSession): taken at its end, or given up because the caller went on. */
  earlyHearing?(taken: boolean): void;
  ended(store: string, outcome: CallOutcome, durationMs: number): void;
}

/** Outcomes of calls that were answered (a refused INVITE is counted by status instead). */
const ANSWERED_OUTCOMES: CallOutcome[] = ['transferred', 'operator', 'abandoned', 'failed'];

/** Calls of the whole service or of one store, as AttendantService.GetStats gives them. */
export interface CallFigures {
  active: number;
  total: number;
  byOutcome: Record<string, number>;
  /** Decision latency (end of speech to transfer request) over the last calls, in ms. */
  p50: number;
  p95: number;
}

/** Decision latencies kept per store and for all, for exact percentiles (Prometheus gets histograms). */
const KEPT_DECISIONS = 10_000;

interface Tally {
  active: number;
  total: number;
  byOutcome: Record<string, number>;
  decisionMs: number[];
}

const emptyTally = (): Tally => ({ active: 0, total: 0, byOutcome: {}, decisionMs: [] });

/**
 * The one account of the calls: fed by the switchboard's events, it serves /metrics
 * (Prometheus) and the exact figures of GetStats (`figures`).
 */
export class ServiceMetrics implements CallObserver {
  readonly registry = new Registry();
  private readonly all = emptyTally();
  private readonly perStore = new Map<string, Tally>();
  private readonly calls: Counter<'outcome'>;
  private readonly storeCalls?: Counter<'store' | 'outcome'>;
  private readonly refusedCalls: Counter<'status'>;
  private readonly decision: Histogram;
  private readonly storeDecision?: Histogram<'store'>;
  private readonly duration: Histogram<'outcome'>;
  private readonly early: Counter<'outcome'>;

  constructor(
    sources: MetricsSources,
    readonly storeLabels = false,
  ) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    const gauge = (name: string, help: string, read: () => number): void =>
      void new Gauge({
        name,
        help,
        registers,
        collect() {
          this.set(read());
        },
      });
    // A count kept elsewhere (a socket's, a worker pool's), shown as the counter it is.
    const counted = (name: string, help: string, read: () => number): void =>
      void new Counter({
        name,
        help,
        registers,
        collect() {
          this.reset();
          this.inc(read());
        },
      });
    gauge('attendant_ready', '1 when the service can take calls.', () => (sources.ready() ? 1 : 0));
    gauge('attendant_active_calls', 'Calls in progress.', sources.activeCalls);
    gauge('attendant_stores', 'Stores loaded (with a directory, or empty and sent to their operator).', () => sources.stores().length);
    gauge(
      'attendant_grammars_memory_bytes',
      "Memory the stores' grammars took in one recognition worker when loaded, all stores together (each store's is bounded by ATTENDANT_STORE_MEMORY_MB).",
      () => sources.stores().reduce((n, s) => n + (s.grammarBytes ?? 0), 0),
    );
    if (storeLabels) {
      new Gauge({
        name: 'attendant_store_grammar_memory_bytes',
        help: "Memory a store's grammars took in one recognition worker when loaded (bounded by ATTENDANT_STORE_MEMORY_MB).",
        labelNames: ['store'],
        registers,
        collect() {
          this.reset();
          for (const s of sources.stores()) this.set({ store: s.store }, s.grammarBytes ?? 0);
        },
      });
      new Gauge({
        name: 'attendant_store_directory_version',
        help: 'Directory version that new calls of a store use.',
        labelNames: ['store'],
        registers,
        collect() {
          this.reset();
          for (const s of sources.stores()) this.set({ store: s.store }, s.version);
        },
      });
    }
    counted('attendant_media_late_ticks_total', '20 ms media ticks that ran late (event loop overloaded).', sources.lateMediaTicks);
    counted(
      'attendant_rtp_dropped_total',
      "RTP packets refused: from another address, port or SSRC than the call's stream.",
      sources.rtpDropped,
    );
    counted(
      'attendant_sip_tcp_refused_total',
      'Inbound SIP TCP connections closed by a limit (too many, or no message in time).',
      sources.tcpRefused,
    );
    counted(
      'attendant_sip_forbidden_total',
      'SIP requests from addresses outside ATTENDANT_SIP_ALLOW (answered 403).',
      sources.sipForbidden,
    );
    if (sources.asr !== undefined) {
      const asr = sources.asr;
      gauge(
        'attendant_asr_workers',
        'Serving recognition worker processes running (the workers of large stores and of answers not counted).',
        asr.workers,
      );
      gauge(
        'attendant_asr_backlog',
        'Utterances given to recognition workers and not decoded yet (an utterance split over two workers counts twice).',
        asr.backlog,
      );
      gauge(
        'attendant_asr_workers_resident_memory_bytes',
        'Resident memory of the recognition worker processes together (process_resident_memory_bytes is the server alone).',
        asr.residentBytes,
      );
      counted(
        'attendant_asr_worker_exits_total',
        'Recognition workers that exited while in use (a crash): their utterances failed, each was replaced.',
        asr.exits,
      );
    }
    counted(
      'attendant_asr_fast_utterances_total',
      'Utterances decoded at the fast speed (with ATTENDANT_ASR_PROFILE=auto, those that would have waited).',
      sources.fastUtterances,
    );

    this.calls = new Counter({ name: 'attendant_calls_total', help: 'Calls ended, by outcome.', labelNames: ['outcome'], registers });
    for (const outcome of ANSWERED_OUTCOMES) this.calls.inc({ outcome }, 0);
    this.refusedCalls = new Counter({
      name: 'attendant_calls_refused_total',
      help: 'INVITEs refused, by SIP status.',
      labelNames: ['status'],
      registers,
    });
    this.early = new Counter({
      name: 'attendant_early_hearings_total',
      help: 'Utterances heard before their end was decided (after 350 ms of quiet, not 500): taken at the end, or given up because the caller spoke again.',
      labelNames: ['outcome'],
      registers,
    });
    for (const outcome of ['taken', 'given_up']) this.early.inc({ outcome }, 0);
    const latency = [0.1, 0.2, 0.3, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10];
    this.decision = new Histogram({
      name: 'attendant_decision_latency_seconds',
      help: 'End of speech to transfer request.',
      buckets: latency,
      registers,
    });
    this.duration = new Histogram({
      name: 'attendant_call_duration_seconds',
      help: 'Answer to end of the call, by outcome.',
      labelNames: ['outcome'],
      buckets: [1, 2, 5, 10, 15, 20, 30, 45, 60, 120, 300],
      registers,
    });
    if (storeLabels) {
      this.storeCalls = new Counter({
        name: 'attendant_store_calls_total',
        help: 'Calls ended, by store and outcome.',
        labelNames: ['store', 'outcome'],
        registers,
      });
      this.storeDecision = new Histogram({
        name: 'attendant_store_decision_latency_seconds',
        help: 'End of speech to transfer request, by store.',
        labelNames: ['store'],
        buckets: latency,
        registers,
      });
    }
  }

  refused(status: number): void {
    this.refusedCalls.inc({ status: String(status) });
  }

  taken(store: string): void {
    for (const t of [this.all, this.tally(store)]) {
      t.active += 1;
      t.total += 1;
    }
  }

  decided(store: string, ms: number): void {
    for (const t of [this.all, this.tally(store)]) {
      t.decisionMs.push(ms);
      if (t.decisionMs.length > KEPT_DECISIONS) t.decisionMs.splice(0, KEPT_DECISIONS / 2);
    }
    this.decision.observe(ms / 1000);
    this.storeDecision?.observe({ store }, ms / 1000);
  }

  earlyHearing(taken: boolean): void {
    this.early.inc({ outcome: taken ? 'taken' : 'given_up' });
  }

  ended(store: string, outcome: CallOutcome, durationMs: number): void {
    for (const t of [this.all, this.tally(store)]) {
      t.active = Math.max(0, t.active - 1);
      t.byOutcome[outcome] = (t.byOutcome[outcome] ?? 0) + 1;
    }
    this.calls.inc({ outcome });
    this.storeCalls?.inc({ store, outcome });
    this.duration.observe({ outcome }, durationMs / 1000);
  }

  /** Every store's calls, or one store's (zeros for a store with no call yet). */
  figures(store?: string): CallFigures {
    const t = store === undefined ? this.all : (this.perStore.get(store) ?? emptyTally());
    const sorted = [...t.decisionMs].sort((a, b) => a - b);
    return { active: t.active, total: t.total, byOutcome: { ...t.byOutcome }, p50: percentile(sorted, 0.5), p95: percentile(sorted, 0.95) };
  }

  private tally(store: string): Tally {
    let t = this.perStore.get(store);
    if (t === undefined) {
      t = emptyTally();
      this.perStore.set(store, t);
    }
    return t;
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
