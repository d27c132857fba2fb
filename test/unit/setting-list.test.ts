import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { INTERNAL_VARIABLES, SETTING_LIST, settingsHelp, settingsTable } from '../../src/config/setting-list';
import { loadSettings } from '../../src/config/settings';

const ROOT = resolve(__dirname, '..', '..', '..');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) =>
    d.isDirectory() ? sources(join(dir, d.name)) : d.name.endsWith('.ts') ? [join(dir, d.name)] : [],
  );
}

describe('the list of settings', () => {
  it('lists every environment variable the sources read, and only those', () => {
    const read = new Set<string>();
    for (const file of sources(join(ROOT, 'src'))) {
      for (const m of readFileSync(file, 'utf8').matchAll(/\b(?:env|process\.env)(?:\.|\[')(ATTENDANT_[A-Z0-9_]+)/g)) read.add(m[1]);
      for (const m of readFileSync(file, 'utf8').matchAll(/\b(?:port|whole|onOff)\(env, '(ATTENDANT_[A-Z0-9_]+)'/g)) read.add(m[1]);
    }
    const listed = SETTING_LIST.map((s) => s.name);
    expect([...read].filter((name) => !listed.includes(name) && !INTERNAL_VARIABLES.includes(name)).sort()).toEqual([]);
    expect(listed.filter((name) => !read.has(name))).toEqual([]);
    expect(new Set(listed).size).toBe(listed.length);
  });

  it('is the table of docs/reference.md (npm run docs:settings writes it)', () => {
    const doc = readFileSync(join(ROOT, 'docs', 'reference.md'), 'utf8');
    const table = /<!-- settings:begin -->\n([\s\S]*?)\n<!-- settings:end -->/.exec(doc)?.[1];
    expect(table).toBe(settingsTable());
  });

  it('gives each command its settings in --help, serve all of its own', () => {
    const serve = settingsHelp('serve');
    for (const name of ['ATTENDANT_DRAIN_SECONDS', 'ATTENDANT_DATABASE_URL', 'ATTENDANT_SIP_ALLOW', 'ATTENDANT_LOG_LEVEL'])
      expect(serve).toContain(name);
    expect(settingsHelp('push')).toMatch(/ATTENDANT_TOKEN +the token, when --token is not given/);
    expect(settingsHelp('push')).not.toContain('ATTENDANT_SIP_PORT');
  });

  it('states the defaults loadSettings applies', () => {
    const s = loadSettings({});
    const def = (name: string): string | undefined => SETTING_LIST.find((x) => x.name === name)?.default;
    expect(String(s.sipPort)).toBe(def('ATTENDANT_SIP_PORT'));
    expect(String(s.grpcPort)).toBe(def('ATTENDANT_GRPC_PORT'));
    expect(String(s.httpPort)).toBe(def('ATTENDANT_HTTP_PORT'));
    expect(String(s.maxCalls)).toBe(def('ATTENDANT_MAX_CALLS'));
    expect(String(s.drainSeconds)).toBe(def('ATTENDANT_DRAIN_SECONDS'));
    expect(s.rtpPorts.join('-')).toBe(def('ATTENDANT_RTP_PORTS'));
    expect(s.rtpSource).toBe(def('ATTENDANT_RTP_SOURCE'));
    expect(s.asrEngine).toBe(def('ATTENDANT_ASR_ENGINE'));
    expect(s.logLevel).toBe(def('ATTENDANT_LOG_LEVEL'));
    expect(String(s.storeMemoryLimit / 1024 / 1024)).toBe(def('ATTENDANT_STORE_MEMORY_MB'));
    expect(s.dataDir).toBe(resolve(def('ATTENDANT_DATA_DIR')!));
  });
});
