import { createSocket, Socket } from 'node:dgram';
import { createConnection } from 'node:net';
import { parseAddressList, SettingsError } from '../../src/config/settings';
import { SipTransport } from '../../src/sip/transport';
import { IncomingInvite, SipUserAgent } from '../../src/sip/user-agent';

/** The user agent core over real sockets, driven by raw SIP text as a PBX would send it. */

const request = (method: string, port: number, branch: string, cseq = `1 ${method}`, transport = 'UDP'): string =>
  [
    `${method} sip:demo@127.0.0.1:${port} SIP/2.0`,
    `Via: SIP/2.0/${transport} 127.0.0.1:${port};branch=${branch}`,
    'From: <sip:pbx@127.0.0.1>;tag=pbx1',
    'To: <sip:demo@127.0.0.1>',
    `Call-ID: ${branch}@test`,
    `CSeq: ${cseq}`,
    'Max-Forwards: 70',
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');

describe('SIP user agent over real sockets', () => {
  let transport: SipTransport;
  let ua: SipUserAgent;
  let socket: Socket;
  const invites: IncomingInvite[] = [];
  const received: string[] = [];

  beforeAll(async () => {
    transport = await SipTransport.listen('127.0.0.1', 0);
    // An application that never answers: the INVITE stays pending until CANCEL.
    ua = new SipUserAgent(transport, { onInvite: (invite) => invites.push(invite) });
    socket = createSocket('udp4');
    socket.on('message', (m) => received.push(m.toString()));
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
  });
  afterAll(async () => {
    socket.close();
    ua.close();
    await transport.close();
  });

  const send = (text: string): void => {
    socket.send(text, transport.port, '127.0.0.1');
  };
  const waitFor = async (pattern: RegExp): Promise<string> => {
    for (let i = 0; i < 50; i += 1) {
      const hit = received.find((m) => pattern.test(m));
      if (hit !== undefined) return hit;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error(`no message matching ${pattern}; got:\n${received.map((m) => m.split('\r\n')[0]).join('\n')}`);
  };

  it('answers 100 at once, absorbs a retransmitted INVITE, and on CANCEL answers 200 then 487', async () => {
    const port = (socket.address() as { port: number }).port;
    send(request('INVITE', port, 'z9hG4bKcancel1'));
    await waitFor(/^SIP\/2\.0 100 Trying[\s\S]*CSeq: 1 INVITE/);
    send(request('INVITE', port, 'z9hG4bKcancel1'));
    await new Promise((r) => setTimeout(r, 100));
    expect(invites).toHaveLength(1);
    const canceled = new Promise<void>((resolve) => invites[0].once('cancel', () => resolve()));
    send(request('CANCEL', port, 'z9hG4bKcancel1'));
    await waitFor(/^SIP\/2\.0 200 OK[\s\S]*CSeq: 1 CANCEL/);
    await waitFor(/^SIP\/2\.0 487 Request Terminated[\s\S]*CSeq: 1 INVITE/);
    await canceled;
    expect(invites[0].canceled).toBe(true);
    // The ACK for the 487 stops its retransmission (Timer G).
    send(request('ACK', port, 'z9hG4bKcancel1', '1 ACK'));
    await new Promise((r) => setTimeout(r, 50));
    const before = received.filter((m) => m.startsWith('SIP/2.0 487')).length;
    await new Promise((r) => setTimeout(r, 1200));
    expect(received.filter((m) => m.startsWith('SIP/2.0 487')).length).toBe(before);
  });

  it('answers 481 to a CANCEL that matches nothing and to a BYE outside any dialog', async () => {
    const port = (socket.address() as { port: number }).port;
    send(request('CANCEL', port, 'z9hG4bKnothing'));
    await waitFor(/^SIP\/2\.0 481[\s\S]*z9hG4bKnothing/);
    send(request('BYE', port, 'z9hG4bKbye1').replace('To: <sip:demo@127.0.0.1>', 'To: <sip:demo@127.0.0.1>;tag=gone'));
    await waitFor(/^SIP\/2\.0 481[\s\S]*z9hG4bKbye1/);
  });

  it('answers 482 to a merged request: the same INVITE (Call-ID, From tag, CSeq) by another branch (RFC 3261 §8.2.2.2)', async () => {
    const port = (socket.address() as { port: number }).port;
    const before = invites.length;
    const first = request('INVITE', port, 'z9hG4bKmerge1');
    send(first);
    await waitFor(/^SIP\/2\.0 100 Trying[\s\S]*z9hG4bKmerge1/);
    send(first.replace('branch=z9hG4bKmerge1', 'branch=z9hG4bKmerge2'));
    expect(await waitFor(/z9hG4bKmerge2/)).toMatch(/^SIP\/2\.0 482 /);
    expect(invites.length).toBe(before + 1);
  });

  it('answers 405 to REGISTER and 501 to a method it does not know', async () => {
    const port = (socket.address() as { port: number }).port;
    send(request('REGISTER', port, 'z9hG4bKreg1'));
    send(request('FROBNICATE', port, 'z9hG4bKfrob1'));
    expect(await waitFor(/z9hG4bKreg1/)).toMatch(/^SIP\/2\.0 405[\s\S]*Allow: INVITE, ACK/);
    expect(await waitFor(/z9hG4bKfrob1/)).toMatch(/^SIP\/2\.0 501/);
  });

  it('answers OPTIONS over TCP, with two messages in one segment', async () => {
    const tcp = createConnection({ host: '127.0.0.1', port: transport.port });
    let data = '';
    tcp.on('data', (d) => {
      data += d.toString();
    });
    await new Promise<void>((resolve) => tcp.once('connect', () => resolve()));
    const local = tcp.localPort ?? 0;
    tcp.write(request('OPTIONS', local, 'z9hG4bKtcp1', '1 OPTIONS', 'TCP') + request('OPTIONS', local, 'z9hG4bKtcp2', '1 OPTIONS', 'TCP'));
    for (let i = 0; i < 50 && (data.match(/SIP\/2\.0 200 OK/g) ?? []).length < 2; i += 1) await new Promise((r) => setTimeout(r, 20));
    tcp.destroy();
    expect(data).toMatch(/z9hG4bKtcp1/);
    expect(data).toMatch(/z9hG4bKtcp2/);
    expect((data.match(/SIP\/2\.0 200 OK/g) ?? []).length).toBe(2);
  });
});

describe('the advertised address (ATTENDANT_SIP_ADVERTISED_ADDRESS)', () => {
  it('is put in Via, Contact and SDP for peers off the host; loopback peers keep 127.0.0.1', async () => {
    const transport = await SipTransport.listen('127.0.0.1', 0);
    try {
      expect(transport.advertisedHost({ host: '10.1.2.3' })).toBe('127.0.0.1');
      transport.advertised = '203.0.113.7';
      expect(transport.advertisedHost({ host: '10.1.2.3' })).toBe('203.0.113.7');
      expect(transport.advertisedHost({ host: '127.0.0.1' })).toBe('127.0.0.1');
    } finally {
      await transport.close();
    }
  });
});

describe('SIP over TCP against a flood of connections', () => {
  it('closes connections beyond the per-address limit at once, and silent ones at the first-message deadline; a talking one stays', async () => {
    const transport = await SipTransport.listen('127.0.0.1', 0, { maxConnectionsPerHost: 3, firstMessageMs: 400 });
    const ua = new SipUserAgent(transport);
    const refusals: string[] = [];
    transport.on('refused', (reason) => refusals.push(reason));
    const started = Date.now();
    const closedAt: (number | undefined)[] = [];
    const sockets = [];
    let answers = '';
    try {
      for (let i = 0; i < 4; i += 1) {
        const socket = createConnection({ host: '127.0.0.1', port: transport.port });
        socket.on('error', () => undefined);
        socket.on('close', () => {
          closedAt[i] = Date.now() - started;
        });
        await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
        await new Promise((r) => setTimeout(r, 30)); // let the server count it before the next one
        sockets.push(socket);
      }
      // The first connection speaks SIP; the second and third say nothing.
      sockets[0].on('data', (d) => {
        answers += d.toString();
      });
      sockets[0].write(request('OPTIONS', sockets[0].localPort ?? 0, 'z9hG4bKflood1', '1 OPTIONS', 'TCP'));
      await new Promise((r) => setTimeout(r, 900));
      expect(closedAt[3]).toBeLessThan(300); // the fourth: over the limit, closed at once
      expect(closedAt[1]).toBeGreaterThanOrEqual(350); // silent ones: closed at the deadline, not before
      expect(closedAt[1]).toBeLessThan(900);
      expect(closedAt[2]).toBeLessThan(900);
      expect(closedAt[0]).toBeUndefined(); // the one that spoke SIP is still open, and was answered
      expect(answers).toMatch(/^SIP\/2\.0 200 OK[\s\S]*z9hG4bKflood1/);
      expect(refusals.filter((r) => /from 127\.0\.0\.1 are open/.test(r))).toHaveLength(1);
      expect(refusals.filter((r) => /no whole SIP message within 400 ms/.test(r))).toHaveLength(2);
      // Once the silent ones are gone, the address may connect again.
      const again = createConnection({ host: '127.0.0.1', port: transport.port });
      let reply = '';
      again.on('data', (d) => {
        reply += d.toString();
      });
      await new Promise<void>((resolve) => again.once('connect', () => resolve()));
      again.write(request('OPTIONS', again.localPort ?? 0, 'z9hG4bKflood2', '1 OPTIONS', 'TCP'));
      for (let i = 0; i < 50 && !/z9hG4bKflood2/.test(reply); i += 1) await new Promise((r) => setTimeout(r, 20));
      again.destroy();
      expect(reply).toMatch(/^SIP\/2\.0 200 OK/);
    } finally {
      for (const socket of sockets) socket.destroy();
      ua.close();
      await transport.close();
    }
  });
});

describe('SIP over TCP deadlines and the allow list', () => {
  const connect = async (port: number): Promise<{ socket: ReturnType<typeof createConnection>; closed: () => boolean }> => {
    const socket = createConnection({ host: '127.0.0.1', port });
    let closed = false;
    socket.on('error', () => undefined);
    socket.on('close', () => {
      closed = true;
    });
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    return { socket, closed: () => closed };
  };

  it('closes a connection that sends a byte at a time at the deadline, not when it goes quiet', async () => {
    const transport = await SipTransport.listen('127.0.0.1', 0, { firstMessageMs: 400 });
    const refusals: string[] = [];
    transport.on('refused', (reason) => refusals.push(reason));
    const slow = await connect(transport.port);
    try {
      const text = request('OPTIONS', slow.socket.localPort ?? 0, 'z9hG4bKslow', '1 OPTIONS', 'TCP');
      // One byte every 100 ms: an idle timer of 400 ms would never fire.
      for (let i = 0; i < 8 && !slow.closed(); i += 1) {
        slow.socket.write(text.slice(i, i + 1));
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(slow.closed()).toBe(true);
      expect(refusals.join('\n')).toMatch(/no whole SIP message within 400 ms of connecting/);
    } finally {
      slow.socket.destroy();
      await transport.close();
    }
  });

  it('never refuses an allow-listed address for lack of room, and closes others at once', async () => {
    const transport = await SipTransport.listen('127.0.0.1', 0, {
      maxConnections: 2,
      maxConnectionsPerHost: 2,
      allow: (host) => host === '127.0.0.1',
    });
    const refused: string[] = [];
    transport.on('refused', (reason) => refused.push(reason));
    const many = await Promise.all(Array.from({ length: 5 }, () => connect(transport.port)));
    try {
      await new Promise((r) => setTimeout(r, 200));
      expect(many.filter((c) => c.closed())).toHaveLength(0);
      expect(refused).toEqual([]);
    } finally {
      for (const c of many) c.socket.destroy();
      await transport.close();
    }
    const strict = await SipTransport.listen('127.0.0.1', 0, { allow: () => false });
    const refusedStrict: string[] = [];
    strict.on('refused', (reason) => refusedStrict.push(reason));
    const outsider = await connect(strict.port);
    try {
      for (let i = 0; i < 20 && !outsider.closed(); i += 1) await new Promise((r) => setTimeout(r, 20));
      expect(outsider.closed()).toBe(true);
      expect(refusedStrict).toEqual(['127.0.0.1 is not in ATTENDANT_SIP_ALLOW']);
    } finally {
      outsider.socket.destroy();
      await strict.close();
    }
  });
});

describe('ATTENDANT_SIP_ALLOW', () => {
  it('reads addresses and subnets, IPv4 and IPv6, and says which item is wrong', () => {
    const list = parseAddressList('ATTENDANT_SIP_ALLOW', '10.0.0.0/8, 192.168.1.20,2001:db8::/32');
    expect(list.has('10.200.3.4')).toBe(true);
    expect(list.has('::ffff:10.1.2.3')).toBe(true); // as a dual-stack socket reports IPv4 peers
    expect(list.has('192.168.1.20')).toBe(true);
    expect(list.has('192.168.1.21')).toBe(false);
    expect(list.has('2001:db8::5')).toBe(true);
    expect(list.has('2001:db9::5')).toBe(false);
    expect(list.has('not an address')).toBe(false);
    expect(() => parseAddressList('ATTENDANT_SIP_ALLOW', '10.0.0.0/8, pbx.example')).toThrow(/"pbx.example" is not an IP address/);
    expect(() => parseAddressList('ATTENDANT_SIP_ALLOW', '10.0.0.0/33')).toThrow(SettingsError);
    expect(() => parseAddressList('ATTENDANT_SIP_ALLOW', ' , ')).toThrow(/empty/);
  });

  it.each([
    ['10.0.0.0/8', 403],
    ['10.0.0.0/8,127.0.0.0/8', 200],
  ])('with %s, a request from 127.0.0.1 gets %i', async (allowText, status) => {
    const transport = await SipTransport.listen('127.0.0.1', 0);
    const allow = parseAddressList('ATTENDANT_SIP_ALLOW', allowText);
    const ua = new SipUserAgent(transport, { allow: (peer) => allow.has(peer.host), onInvite: (invite) => invite.reject(486) });
    const socket = createSocket('udp4');
    const replies: string[] = [];
    socket.on('message', (m) => replies.push(m.toString()));
    try {
      await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
      const port = (socket.address() as { port: number }).port;
      socket.send(request('OPTIONS', port, 'z9hG4bKallow1'), transport.port, '127.0.0.1');
      socket.send(request('INVITE', port, 'z9hG4bKallow2'), transport.port, '127.0.0.1');
      for (let i = 0; i < 50 && replies.filter((r) => !/^SIP\/2\.0 100/.test(r)).length < 2; i += 1)
        await new Promise((r) => setTimeout(r, 20));
      const finals = replies.filter((r) => !/^SIP\/2\.0 100/.test(r));
      expect(finals.find((r) => /z9hG4bKallow1/.test(r))).toMatch(new RegExp(`^SIP/2\\.0 ${status} `));
      // An INVITE from outside the list never reaches the application (which would answer 486).
      expect(finals.find((r) => /z9hG4bKallow2/.test(r))).toMatch(new RegExp(`^SIP/2\\.0 ${status === 403 ? 403 : 486} `));
    } finally {
      socket.close();
      ua.close();
      await transport.close();
    }
  });
});
