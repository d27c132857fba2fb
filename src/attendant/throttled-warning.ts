import { Logger } from 'pino';

/** Counts an event and logs it as a warning, at most once per `everyMs`, with how many went unlogged. */
export class ThrottledWarning {
  count = 0;
  private lastLogged = -Infinity;
  private unlogged = 0;

  constructor(
    private readonly log: Logger,
    private readonly message: string,
    private readonly everyMs = 10_000,
  ) {}

  add(fields: Record<string, unknown>): void {
    this.count += 1;
    this.unlogged += 1;
    const now = Date.now();
    if (now - this.lastLogged < this.everyMs) return;
    this.log.warn({ ...fields, since_last_line: this.unlogged }, this.message);
    this.lastLogged = now;
    this.unlogged = 0;
  }
}
