import pino from 'pino';
import { Writable } from 'node:stream';
import { ThrottledWarning } from '../../src/attendant/throttled-warning';

describe('warnings an outsider can cause', () => {
  afterEach(() => jest.useRealTimers());

  it('are logged at most once every 10 s, with how many were not, whatever the flood', () => {
    jest.useFakeTimers({ now: 1_000_000 });
    const lines: Record<string, unknown>[] = [];
    const sink = new Writable({ write: (chunk: Buffer, _enc, done) => (lines.push(JSON.parse(chunk.toString())), done()) });
    const warning = new ThrottledWarning(pino({ level: 'info' }, sink), 'malformed SIP message');
    for (let i = 0; i < 20_000; i += 1) {
      warning.add({ peer: '127.0.0.1' });
      jest.setSystemTime(1_000_000 + i / 2); // 2,000 a second for 10 s
    }
    jest.setSystemTime(1_000_000 + 10_001);
    warning.add({ peer: '127.0.0.1' });
    expect(warning.count).toBe(20_001);
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatchObject({ msg: 'malformed SIP message', since_last_line: 20_000 });
  });
});
