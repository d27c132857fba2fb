import { readFileSync } from 'node:fs';
import { BlockList, isIP } from 'node:net';
import { cpus } from 'node:os';
import { resolve } from 'node:path';
import { EngineSetting } from '../asr/engine';
import { PocketsphinxProfile, pocketsphinxProfile } from '../asr/pocketsphinx-tuning';
import type { RtpSourcePolicy } from '../media/rtp';
import { AttendantError } from '../util/errors';

/** Settings from the environment (DESIGN.md, "Settings"), validated once at start. */
export interface Settings {
  dataDir: string;
  /** ATTENDANT_DATABASE_URL=postgres://…: directories, tokens and call records in PostgreSQL, shared by every node; absent, SQLite in the data dir. */
  databaseUrl?: string;
  asrEngine: EngineSetting;
  /** How pocketsphinx spends CPU: auto (default), accurate or fast (ATTENDANT_ASR_PROFILE). */
  asrProfile: PocketsphinxProfile;
  voskModel: string;
  asrWorkers: number;
  /** The most memory one store's grammars may take in a recognition worker, in bytes (ATTENDANT_STORE_MEMORY_MB). */
  storeMemoryLimit: number;
  logLevel: string;
  sipHost: string;
  sipPort: number;
  rtpPorts: [number, number];
  /** Whose RTP a call takes: the SDP's address (sdp, default) or the first steady source (latch, callers behind NAT). */
  rtpSource: RtpSourcePolicy;
  /** ATTENDANT_GRPC_HOST: the address gRPC listens on (default every address). */
  grpcHost: string;
  grpcPort: number;
  /** ATTENDANT_GRPC_TLS_CERT and ATTENDANT_GRPC_TLS_KEY: gRPC over TLS with this certificate (PEM); absent, plaintext. */
  grpcTls?: GrpcTls;
  /** ATTENDANT_HTTP_HOST: the address /healthz, /readyz and /metrics listen on (default every address). */
  httpHost: string;
  httpPort: number;
  /** On SIGTERM: how long calls in progress may go on before they are sent to the operator. */
  drainSeconds: number;
  /** Calls taken at once; more get 503 with Retry-After. */
  maxCalls: number;
  /** Addresses that may send SIP (the PBXs, a kamailio in front); undefined: any. */
  sipAllow?: AddressList;
  /** ATTENDANT_METRICS_STORES=on: per-store series in /metrics (store ids in labels). Off by default. */
  metricsStores: boolean;
  /** ATTENDANT_SIP_ADVERTISED_ADDRESS: the address put in SDP, Via and Contact (NAT, a shared address); default the SIP host's. */
  sipAdvertised?: string;
}

/** A server certificate chain and its private key, PEM. */
export interface GrpcTls {
  cert: Buffer;
  key: Buffer;
}

/** A list of addresses and subnets, as ATTENDANT_SIP_ALLOW gives them. */
export interface AddressList {
  text: string;
  has(address: string): boolean;
}

/** "10.0.0.0/8, 192.168.1.20, ::1": IPv4 or IPv6 addresses, with or without a prefix length. */
export function parseAddressList(name: string, text: string): AddressList {
  const list = new BlockList();
  const items = text
    .split(',')
    .map((t) => t.trim())
    .filter((t) => t !== '');
  if (items.length === 0) throw new SettingsError(`${name} is empty; leave it unset to take SIP from any address`);
  for (const item of items) {
    const m = /^([^/]+)(?:\/(\d{1,3}))?$/.exec(item);
    const family = m === null ? 0 : isIP(m[1]);
    const type = family === 6 ? 'ipv6' : 'ipv4';
    const prefix = m?.[2] === undefined ? undefined : Number(m[2]);
    if (m === null || family === 0 || (prefix !== undefined && prefix > (family === 6 ? 128 : 32))) {
      throw new SettingsError(`${name}: "${item}" is not an IP address or a subnet such as 10.0.0.0/8`);
    }
    if (prefix === undefined) list.addAddress(m[1], type);
    else list.addSubnet(m[1], prefix, type);
  }
  return {
    text: items.join(','),
    has: (address) => {
      const bare = address.startsWith('::ffff:') ? address.slice(7) : address;
      const family = isIP(bare);
      return family !== 0 && list.check(bare, family === 6 ? 'ipv6' : 'ipv4');
    },
  };
}

export class SettingsError extends AttendantError {
  constructor(message: string) {
    super('invalid', message);
  }
}

function port(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const text = env[name];
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 0 || value > 65535) {
    throw new SettingsError(`${name}="${text}" is not a port number (0 to 65535)`);
  }
  return value;
}

function whole(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const text = env[name];
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < min || value > max)
    throw new SettingsError(`${name}="${text}" must be a whole number from ${min} to ${max}`);
  return value;
}

/**
 * A store's grammars may take this much memory in each recognition worker: a 50,000-entry
 * store takes about 500 MB (docs/benchmarks.md, directory benchmark), a 100-entry one a few.
 */
export const DEFAULT_STORE_MEMORY_MB = 1024;

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

function logLevel(env: NodeJS.ProcessEnv): string {
  const level = env.ATTENDANT_LOG_LEVEL ?? 'info';
  if (!LOG_LEVELS.includes(level))
    throw new SettingsError(`ATTENDANT_LOG_LEVEL="${level}" is not a level; use one of ${LOG_LEVELS.join(', ')}`);
  return level;
}

export function loadSettings(env: NodeJS.ProcessEnv = process.env): Settings {
  const engine = (env.ATTENDANT_ASR_ENGINE ?? 'auto') as EngineSetting;
  if (!['auto', 'vosk', 'pocketsphinx'].includes(engine)) {
    throw new SettingsError(`ATTENDANT_ASR_ENGINE="${engine}" is not an engine; use auto, vosk or pocketsphinx`);
  }
  let asrProfile: PocketsphinxProfile;
  try {
    asrProfile = pocketsphinxProfile(env);
  } catch (err) {
    throw new SettingsError((err as Error).message);
  }
  const rtpText = env.ATTENDANT_RTP_PORTS ?? '20000-20999';
  const rtp = /^(\d+)-(\d+)$/.exec(rtpText);
  if (rtp === null || Number(rtp[1]) > Number(rtp[2]) || Number(rtp[2]) > 65535) {
    throw new SettingsError(`ATTENDANT_RTP_PORTS="${rtpText}" is not a port range such as 20000-20999`);
  }
  const rtpSource = (env.ATTENDANT_RTP_SOURCE ?? 'sdp') as RtpSourcePolicy;
  if (rtpSource !== 'sdp' && rtpSource !== 'latch')
    throw new SettingsError(
      `ATTENDANT_RTP_SOURCE="${rtpSource}" is not a policy; use sdp (the offer's address only) or latch (behind NAT)`,
    );
  const workersText = env.ATTENDANT_ASR_WORKERS;
  const workers = workersText === undefined ? Math.max(1, cpus().length) : Number(workersText);
  if (!Number.isInteger(workers) || workers < 1 || workers > 64) {
    throw new SettingsError(`ATTENDANT_ASR_WORKERS="${workersText}" must be a whole number from 1 to 64`);
  }
  const memoryText = env.ATTENDANT_STORE_MEMORY_MB ?? String(DEFAULT_STORE_MEMORY_MB);
  const memoryMb = Number(memoryText);
  if (!Number.isInteger(memoryMb) || memoryMb < 16) {
    throw new SettingsError(
      `ATTENDANT_STORE_MEMORY_MB="${memoryText}" must be a whole number of megabytes, 16 or more (default ${DEFAULT_STORE_MEMORY_MB})`,
    );
  }
  return {
    dataDir: resolve(env.ATTENDANT_DATA_DIR ?? 'data'),
    databaseUrl: databaseUrl(env.ATTENDANT_DATABASE_URL),
    asrEngine: engine,
    asrProfile,
    voskModel: resolve(env.ATTENDANT_VOSK_MODEL ?? 'models/vosk'),
    asrWorkers: workers,
    storeMemoryLimit: memoryMb * 1024 * 1024,
    logLevel: logLevel(env),
    sipHost: env.ATTENDANT_SIP_HOST ?? '0.0.0.0',
    sipPort: port(env, 'ATTENDANT_SIP_PORT', 5060),
    rtpPorts: [Number(rtp[1]), Number(rtp[2])],
    rtpSource,
    grpcHost: env.ATTENDANT_GRPC_HOST ?? '0.0.0.0',
    grpcPort: port(env, 'ATTENDANT_GRPC_PORT', 50051),
    grpcTls: grpcTls(env),
    httpHost: env.ATTENDANT_HTTP_HOST ?? '0.0.0.0',
    httpPort: port(env, 'ATTENDANT_HTTP_PORT', 8080),
    maxCalls: whole(env, 'ATTENDANT_MAX_CALLS', 100, 1, 100_000),
    drainSeconds: whole(env, 'ATTENDANT_DRAIN_SECONDS', 10, 0, 3600),
    metricsStores: onOff(env, 'ATTENDANT_METRICS_STORES', false),
    sipAdvertised: advertisedAddress(env.ATTENDANT_SIP_ADVERTISED_ADDRESS),
    sipAllow: env.ATTENDANT_SIP_ALLOW === undefined ? undefined : parseAddressList('ATTENDANT_SIP_ALLOW', env.ATTENDANT_SIP_ALLOW),
  };
}

/** postgres:// or postgresql:// URLs only: a typo must not silently fall back to a local SQLite file. */
function databaseUrl(text: string | undefined): string | undefined {
  if (text === undefined || text === '') return undefined;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new SettingsError('ATTENDANT_DATABASE_URL is not a URL; write postgres://user:password@host:5432/database');
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    throw new SettingsError(
      `ATTENDANT_DATABASE_URL has the scheme "${url.protocol}"; only postgres:// is supported (leave it unset for SQLite in ATTENDANT_DATA_DIR)`,
    );
  }
  return text;
}

/** Both files or neither, each a PEM that can be read now (not at the first connection). */
function grpcTls(env: NodeJS.ProcessEnv): GrpcTls | undefined {
  const cert = env.ATTENDANT_GRPC_TLS_CERT ?? '';
  const key = env.ATTENDANT_GRPC_TLS_KEY ?? '';
  if (cert === '' && key === '') return undefined;
  if (cert === '' || key === '') {
    throw new SettingsError(
      `ATTENDANT_GRPC_TLS_CERT and ATTENDANT_GRPC_TLS_KEY go together: set ${cert === '' ? 'ATTENDANT_GRPC_TLS_CERT (the certificate chain)' : 'ATTENDANT_GRPC_TLS_KEY (its private key)'} too`,
    );
  }
  return { cert: pemFile('ATTENDANT_GRPC_TLS_CERT', cert, 'CERTIFICATE'), key: pemFile('ATTENDANT_GRPC_TLS_KEY', key, 'PRIVATE KEY') };
}

/** A PEM file's bytes; says which setting names a missing or wrong file. */
export function pemFile(name: string, path: string, kind: 'CERTIFICATE' | 'PRIVATE KEY'): Buffer {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    throw new SettingsError(`${name}="${path}" cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  if (!new RegExp(`-----BEGIN [A-Z ]*${kind}-----`).test(bytes.toString('latin1'))) {
    throw new SettingsError(
      `${name}="${path}" is not a PEM ${kind === 'CERTIFICATE' ? 'certificate' : 'private key'} (-----BEGIN ${kind}-----)`,
    );
  }
  return bytes;
}

function onOff(env: NodeJS.ProcessEnv, name: string, fallback: boolean): boolean {
  const text = env[name];
  if (text === undefined || text === '') return fallback;
  if (text === 'on' || text === '1' || text === 'true') return true;
  if (text === 'off' || text === '0' || text === 'false') return false;
  throw new SettingsError(`${name}="${text}" is not on or off`);
}

function advertisedAddress(text: string | undefined): string | undefined {
  if (text === undefined || text === '') return undefined;
  if (isIP(text) !== 4) throw new SettingsError(`ATTENDANT_SIP_ADVERTISED_ADDRESS="${text}" is not an IPv4 address (media is IPv4)`);
  return text;
}
