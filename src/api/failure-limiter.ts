/**
 * Failed authentications counted per client address, for every way in at once (the gRPC
 * services and the console's sign-in share one): past `limit` failures in `windowMs`, the
 * address's failing attempts are refused until the window has passed. A valid token is
 * never refused, so that a colleague behind the same address is not locked out.
 */
export class FailureLimiter {
  private readonly failures = new Map<string, number[]>();

  constructor(
    readonly limit = 10,
    readonly windowMs = 60_000,
  ) {}

  /** One key per client address, however the transport spells it ("ipv4:10.0.0.1:5060", "::ffff:10.0.0.1", "[::1]:443"). */
  static addressOf(peer: string): string {
    let a = peer.replace(/^ipv[46]:/, '');
    const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(a);
    if (bracketed !== null) a = bracketed[1];
    else if (/^[^:]+:\d+$/.test(a)) a = a.replace(/:\d+$/, '');
    return a.replace(/^::ffff:/i, '');
  }

  private recent(address: string, now: number): number[] {
    const list = (this.failures.get(address) ?? []).filter((t) => now - t < this.windowMs);
    if (list.length === 0) this.failures.delete(address);
    else this.failures.set(address, list);
    return list;
  }

  /** True while the address has used up its failures. */
  locked(peer: string, now = Date.now()): boolean {
    return this.recent(FailureLimiter.addressOf(peer), now).length >= this.limit;
  }

  /** Counts one failure; returns true when the address is now (or was already) locked. */
  fail(peer: string, now = Date.now()): boolean {
    const address = FailureLimiter.addressOf(peer);
    const list = this.recent(address, now);
    if (list.length >= this.limit) return true;
    this.failures.set(address, [...list, now]);
    return list.length + 1 >= this.limit;
  }
}
