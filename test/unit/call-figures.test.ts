import { ServiceMetrics } from '../../src/attendant/metrics';

const sources = {
  ready: () => true,
  activeCalls: () => 0,
  stores: () => [],
  lateMediaTicks: () => 0,
  rtpDropped: () => 0,
  tcpRefused: () => 0,
  sipForbidden: () => 0,
  fastUtterances: () => 0,
};

describe('the account of the calls (ServiceMetrics)', () => {
  it("gives every store's figures and one store's, from the switchboard's events alone", async () => {
    const m = new ServiceMetrics(sources);
    m.taken('brest-1');
    m.taken('brest-1');
    m.taken('quimper');
    for (const ms of [100, 200, 300, 400]) m.decided('brest-1', ms);
    m.decided('quimper', 900);
    m.ended('brest-1', 'transferred', 12_000);
    m.ended('quimper', 'operator', 30_000);
    m.refused(503);
    expect(m.figures()).toEqual({ active: 1, total: 3, byOutcome: { transferred: 1, operator: 1 }, p50: 300, p95: 900 });
    expect(m.figures('brest-1')).toEqual({ active: 1, total: 2, byOutcome: { transferred: 1 }, p50: 200, p95: 400 });
    expect(m.figures('lorient')).toEqual({ active: 0, total: 0, byOutcome: {}, p50: 0, p95: 0 });
    // The same events, in Prometheus' terms.
    const text = await m.text();
    expect(text).toMatch(/attendant_calls_total\{outcome="transferred"\} 1/);
    expect(text).toMatch(/attendant_calls_refused_total\{status="503"\} 1/);
    expect(text).toMatch(/attendant_decision_latency_seconds_count 5/);
  });

  it('keeps the latest decisions, not all of them', () => {
    const m = new ServiceMetrics(sources);
    for (let i = 0; i < 16_000; i += 1) m.decided('brest-1', i < 6_000 ? 5_000 : 100);
    expect(m.figures('brest-1').p95).toBe(100);
  });
});
