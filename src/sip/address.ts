/**
 * SIP URIs (RFC 3261 §19.1), name-addr headers (From, To, Contact, Refer-To: §20.10,
 * §25.1) and Via (§20.42).
 */

export interface SipUri {
  scheme: 'sip' | 'sips' | 'tel';
  user: string;
  host: string;
  port?: number;
  params: Map<string, string>;
}

export interface NameAddr {
  display: string;
  uri: string;
  params: Map<string, string>;
}

export interface Via {
  transport: string;
  host: string;
  port?: number;
  params: Map<string, string>;
}

function params(text: string): Map<string, string> {
  const map = new Map<string, string>();
  for (const part of text.split(';')) {
    const p = part.trim();
    if (p === '') continue;
    const eq = p.indexOf('=');
    if (eq < 0) map.set(p.toLowerCase(), '');
    else map.set(p.slice(0, eq).trim().toLowerCase(), p.slice(eq + 1).trim());
  }
  return map;
}

export function formatParams(map: Map<string, string>): string {
  return [...map].map(([k, v]) => (v === '' ? `;${k}` : `;${k}=${v}`)).join('');
}

/** Parses sip:, sips: and tel: URIs; returns undefined for anything else. */
export function parseUri(text: string): SipUri | undefined {
  const m = /^(sips?|tel):(?:([^@;?]*)@)?([^;?]*)((?:;[^?]*)?)(?:\?.*)?$/i.exec(text.trim());
  if (m === null) return undefined;
  const scheme = m[1].toLowerCase() as SipUri['scheme'];
  if (scheme === 'tel') return { scheme, user: m[3], host: '', params: params(m[4]) };
  const hostPort = m[3];
  let port: number | undefined;
  const v6 = /^(\[[^\]]+\])(?::(\d+))?$/.exec(hostPort);
  const v4 = /^([^:]+)(?::(\d+))?$/.exec(hostPort);
  const hp = v6 ?? v4;
  if (hp === null || hp[1] === '') return undefined;
  const host = hp[1];
  if (hp[2] !== undefined) {
    port = Number(hp[2]);
    if (port < 1 || port > 65535) return undefined;
  }
  return { scheme, user: decodeURIComponent(safeUser(m[2] ?? '')), host, port, params: params(m[4]) };
}

function safeUser(user: string): string {
  // The user part (password dropped); %-escapes that do not decode are kept as they are.
  const bare = user.split(':')[0];
  try {
    decodeURIComponent(bare);
    return bare;
  } catch {
    return bare.replace(/%/g, '%25');
  }
}

/** Parses `"Display" <uri>;params`, `<uri>;params` or a bare `uri;params` (§20.10). */
export function parseNameAddr(text: string): NameAddr | undefined {
  const t = text.trim();
  const angled = /^(?:"((?:[^"\\]|\\.)*)"|([^<"]*?))\s*<([^>]*)>(.*)$/.exec(t);
  if (angled !== null) {
    return { display: (angled[1] ?? angled[2] ?? '').trim(), uri: angled[3].trim(), params: params(angled[4]) };
  }
  // Without angle brackets, parameters after the URI belong to the header (§20.10).
  const semi = t.indexOf(';');
  const uri = semi < 0 ? t : t.slice(0, semi);
  if (!/^(sips?|tel):/i.test(uri)) return undefined;
  return { display: '', uri, params: params(semi < 0 ? '' : t.slice(semi)) };
}

export function formatNameAddr(addr: NameAddr): string {
  const display = addr.display === '' ? '' : `"${addr.display.replace(/["\\]/g, '')}" `;
  return `${display}<${addr.uri}>${formatParams(addr.params)}`;
}

export function tagOf(headerValue: string | undefined): string | undefined {
  if (headerValue === undefined) return undefined;
  return parseNameAddr(headerValue)?.params.get('tag');
}

/** Parses one Via value: `SIP/2.0/UDP host:port;branch=z9hG4bK...` (§20.42). */
export function parseVia(text: string): Via | undefined {
  const m = /^SIP\s*\/\s*2\.0\s*\/\s*([A-Za-z]+)\s+([^;\s]+)\s*((?:;.*)?)$/i.exec(text.trim());
  if (m === null) return undefined;
  const hp = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(m[2]);
  if (hp === null) return undefined;
  return { transport: m[1].toUpperCase(), host: hp[1], port: hp[2] === undefined ? undefined : Number(hp[2]), params: params(m[3]) };
}

/** An RFC 3261 token (§25.1): methods, header and parameter names. */
export const TOKEN = "[A-Za-z0-9.!%*_+`'~-]+";
// A parameter value: a token, an IPv6 reference or address (Via received), or a quoted string.
const PARAMS = new RegExp(`^(?:\\s*;\\s*${TOKEN}(?:\\s*=\\s*(?:[^\\s;,"<>=]+|"(?:[^"\\\\]|\\\\.)*"))?)*\\s*$`);
// Unquoted display names are tokens (letters beyond ASCII let through: some PBXs send them).
const DISPLAY_TOKEN = "[A-Za-z0-9.!%*_+`'~\\u0080-\\uffff-]+";
const NAME_ADDR = new RegExp(`^(?:"(?:[^"\\\\]|\\\\.)*"|${DISPLAY_TOKEN}(?:[ \\t]+${DISPLAY_TOKEN})*)?[ \\t]*<([^<>\\s]+)>(.*)$`);

/**
 * One From, To or Contact value (§20.10, §25.1): a name-addr, whose display name is tokens or
 * one quoted string and whose URI has no space; or a bare addr-spec, with no comma, question
 * mark or semicolon in the URI (those need <>); then header parameters, none empty.
 */
export function addressFault(value: string): string | undefined {
  const v = value.trim();
  const angled = NAME_ADDR.exec(v);
  let params: string;
  if (angled !== null) {
    params = angled[2];
  } else {
    if (v.includes('<') || v.includes('"')) return 'a display name or <URI> is malformed';
    const semi = v.indexOf(';');
    const uri = (semi < 0 ? v : v.slice(0, semi)).trim();
    if (!/^(sips?|tel):[^\s,?<>"]+$/i.test(uri)) return 'an address without <> has a space, comma or ? in its URI';
    params = semi < 0 ? '' : v.slice(semi);
  }
  return PARAMS.test(params) ? undefined : 'an address has an empty or malformed parameter';
}

/** Whether a Via value's parameters are malformed (an empty one: RFC 4475 §3.1.2.1); any SIP version. */
export function viaFault(value: string): boolean {
  const params = /^SIP\s*\/\s*\d+\.\d+\s*\/\s*[A-Za-z]+\s+[^;\s]+\s*(.*)$/i.exec(value.trim());
  return params === null || !PARAMS.test(params[1]);
}
