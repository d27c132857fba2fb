import { cpus } from 'node:os';
import { resolve } from 'node:path';
import { EngineSetting } from '../asr/engine';

/** Settings from the environment (DESIGN.md, "Settings"), validated once at start. */
export interface Settings {
  dataDir: string;
  asrEngine: EngineSetting;
  voskModel: string;
  asrWorkers: number;
  logLevel: string;
  sipHost: string;
  sipPort: number;
  rtpPorts: [number, number];
  grpcPort: number;
  httpPort: number;
  /** Calls taken at once; more get 503 with Retry-After. */
  maxCalls: number;
}

export class SettingsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SettingsError';
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
  if (!Number.isInteger(value) || value < min || value > max) throw new SettingsError(`${name}="${text}" must be a whole number from ${min} to ${max}`);
  return value;
}

export function loadSettings(env: NodeJS.ProcessEnv = process.env): Settings {
  const engine = (env.ATTENDANT_ASR_ENGINE ?? 'auto') as EngineSetting;
  if (!['auto', 'vosk', 'pocketsphinx'].includes(engine)) {
    throw new SettingsError(`ATTENDANT_ASR_ENGINE="${engine}" is not an engine; use auto, vosk or pocketsphinx`);
  }
  const rtpText = env.ATTENDANT_RTP_PORTS ?? '20000-20999';
  const rtp = /^(\d+)-(\d+)$/.exec(rtpText);
  if (rtp === null || Number(rtp[1]) > Number(rtp[2]) || Number(rtp[2]) > 65535) {
    throw new SettingsError(`ATTENDANT_RTP_PORTS="${rtpText}" is not a port range such as 20000-20999`);
  }
  const workersText = env.ATTENDANT_ASR_WORKERS;
  const workers = workersText === undefined ? Math.max(1, cpus().length) : Number(workersText);
  if (!Number.isInteger(workers) || workers < 1 || workers > 64) {
    throw new SettingsError(`ATTENDANT_ASR_WORKERS="${workersText}" must be a whole number from 1 to 64`);
  }
  return {
    dataDir: resolve(env.ATTENDANT_DATA_DIR ?? 'data'),
    asrEngine: engine,
    voskModel: resolve(env.ATTENDANT_VOSK_MODEL ?? 'models/vosk'),
    asrWorkers: workers,
    logLevel: env.ATTENDANT_LOG_LEVEL ?? 'info',
    sipHost: env.ATTENDANT_SIP_HOST ?? '0.0.0.0',
    sipPort: port(env, 'ATTENDANT_SIP_PORT', 5060),
    rtpPorts: [Number(rtp[1]), Number(rtp[2])],
    grpcPort: port(env, 'ATTENDANT_GRPC_PORT', 50051),
    httpPort: port(env, 'ATTENDANT_HTTP_PORT', 8080),
    maxCalls: whole(env, 'ATTENDANT_MAX_CALLS', 100, 1, 100_000),
  };
}
