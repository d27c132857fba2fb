/**
 * Every environment variable attendant reads: its name, default, what it does and which
 * commands read it. `--help` of each command, `serve --help` and docs/reference.md's table
 * are made from this list (a test holds the document to it, and holds the sources to it:
 * a variable read anywhere in src/ is listed here). Values are validated by loadSettings
 * (settings.ts), or where noted by the part that reads them.
 */

/** The commands' groups, as their --help shows settings. */
export type SettingsGroup = 'serve' | 'data' | 'database' | 'models' | 'push' | 'call';

export interface SettingDoc {
  name: string;
  /** As a user reads it ("./data", "one per core"); undefined: unset by default. */
  default?: string;
  help: string;
  groups: SettingsGroup[];
}

export const SETTING_LIST: SettingDoc[] = [
  {
    name: 'ATTENDANT_DATA_DIR',
    default: './data',
    help: 'where stores, tokens, call records and prompts live',
    groups: ['serve', 'data', 'database', 'models', 'call'],
  },
  {
    name: 'ATTENDANT_DATABASE_URL',
    help: 'postgres://… to share one database between nodes (unset: SQLite in the data dir)',
    groups: ['serve', 'data', 'database'],
  },
  {
    name: 'ATTENDANT_DRAIN_SECONDS',
    default: '10',
    help: 'on SIGTERM, how long calls in progress may go on before the operator',
    groups: ['serve'],
  },
  { name: 'ATTENDANT_SIP_HOST', default: '0.0.0.0', help: 'SIP and RTP address', groups: ['serve'] },
  {
    name: 'ATTENDANT_SIP_PORT',
    default: '5060',
    help: 'SIP port, UDP and TCP (`call`: the port called without --server)',
    groups: ['serve', 'call'],
  },
  {
    name: 'ATTENDANT_SIP_ALLOW',
    default: 'any',
    help: 'addresses or subnets that may send SIP, e.g. 10.1.0.0/16,192.168.1.20',
    groups: ['serve'],
  },
  {
    name: 'ATTENDANT_SIP_ADVERTISED_ADDRESS',
    default: "the SIP host's",
    help: 'the IPv4 address put in SDP, Via and Contact (NAT)',
    groups: ['serve'],
  },
  { name: 'ATTENDANT_RTP_PORTS', default: '20000-20999', help: 'RTP port range', groups: ['serve'] },
  {
    name: 'ATTENDANT_RTP_SOURCE',
    default: 'sdp',
    help: "sdp (RTP from the offer's address only) or latch (PBX behind NAT)",
    groups: ['serve'],
  },
  { name: 'ATTENDANT_HTTP_HOST', default: '0.0.0.0', help: 'address for HTTP (console, /healthz, /readyz, /metrics)', groups: ['serve'] },
  { name: 'ATTENDANT_HTTP_PORT', default: '8080', help: 'port for HTTP', groups: ['serve'] },
  { name: 'ATTENDANT_METRICS_STORES', default: 'off', help: 'on: per-store series (store ids as labels) in /metrics', groups: ['serve'] },
  { name: 'ATTENDANT_GRPC_HOST', default: '0.0.0.0', help: 'address for gRPC', groups: ['serve'] },
  { name: 'ATTENDANT_GRPC_PORT', default: '50051', help: 'gRPC DirectoryService, AttendantService, grpc.health.v1', groups: ['serve'] },
  {
    name: 'ATTENDANT_GRPC_TLS_CERT',
    help: 'gRPC over TLS: the certificate chain, PEM (with ATTENDANT_GRPC_TLS_KEY; unset: plaintext)',
    groups: ['serve'],
  },
  { name: 'ATTENDANT_GRPC_TLS_KEY', help: 'gRPC over TLS: its private key, PEM', groups: ['serve'] },
  { name: 'ATTENDANT_MAX_CALLS', default: '100', help: 'calls at once; more get 503 with Retry-After', groups: ['serve'] },
  { name: 'ATTENDANT_ASR_ENGINE', default: 'auto', help: 'auto, pocketsphinx or vosk', groups: ['serve', 'models'] },
  {
    name: 'ATTENDANT_ASR_PROFILE',
    default: 'auto',
    help: 'PocketSphinx speed: auto (accurate, fast under load), accurate or fast',
    groups: ['serve', 'models'],
  },
  { name: 'ATTENDANT_ASR_WORKERS', default: 'one per core', help: 'recognition worker processes (1 to 64)', groups: ['serve', 'models'] },
  {
    name: 'ATTENDANT_STORE_MEMORY_MB',
    default: '1024',
    help: "the most memory one store's grammars may take per worker (16 or more)",
    groups: ['serve'],
  },
  {
    name: 'ATTENDANT_MODELS_DIR',
    default: './models',
    help: 'acoustic models, one folder each (attendant models install)',
    groups: ['serve', 'models'],
  },
  { name: 'ATTENDANT_VOSK_MODEL', default: 'models/vosk', help: 'the Vosk model folder', groups: ['serve', 'models'] },
  {
    name: 'ATTENDANT_POCKETSPHINX_MODEL',
    default: "Debian's pocketsphinx-en-us",
    help: 'the US English PocketSphinx model folder',
    groups: ['serve', 'models'],
  },
  {
    name: 'ATTENDANT_LOG_LEVEL',
    default: 'info',
    help: 'fatal, error, warn, info, debug (adds a SIP trace, callers masked), trace, silent',
    groups: ['serve'],
  },
  {
    name: 'ATTENDANT_PS_LOG',
    default: 'off',
    help: "1: PocketSphinx's own messages on stderr (to see why a model or grammar is refused)",
    groups: ['serve', 'models'],
  },
  { name: 'ATTENDANT_TOKEN', help: 'the token, when --token is not given', groups: ['push'] },
  { name: 'ATTENDANT_GRPC_TLS_CA', help: "the authority to check the server's certificate with, when --ca is not given", groups: ['push'] },
];

/** Variables that pass between attendant's own processes, never set by a user. */
export const INTERNAL_VARIABLES = ['ATTENDANT_PROBE_SPEC'];

/** The "Settings (environment)" block of a command's --help. */
export function settingsHelp(group: SettingsGroup): string {
  const list = SETTING_LIST.filter((s) => s.groups.includes(group));
  const width = Math.max(...list.map((s) => s.name.length)) + 2;
  const lines = list.map((s) => `  ${s.name.padEnd(width)}${s.help}${s.default === undefined ? '' : ` (default ${s.default})`}`);
  return `Settings (environment):\n${lines.join('\n')}`;
}

/** docs/reference.md's table of settings (between its `settings` markers). */
export function settingsTable(): string {
  const rows = SETTING_LIST.map(
    (s) => `| \`${s.name}\` | ${s.default === undefined ? '' : `\`${s.default}\``} | ${s.help.replace(/\|/g, '\\|')} |`,
  );
  return ['| variable | default | what it does |', '|---|---|---|', ...rows].join('\n');
}
