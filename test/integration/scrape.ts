/** One sample of a running service's Prometheus /metrics, e.g. `attendant_calls_total{outcome="transferred"}`; NaN when absent. */
export async function scrapeMetric(httpPort: number, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
  const m = new RegExp(`^${name.replace(/[{}"]/g, (c) => `\\${c}`)} (\\S+)$`, 'm').exec(text);
  return m === null ? NaN : Number(m[1]);
}
