import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * deploy/attendant.service as systemd reads it: `systemd-analyze verify` must find nothing to
 * say (an unknown key is ignored by systemd with a warning, so a typo would silently drop a
 * setting such as KillMode). Skipped, saying why, where systemd-analyze is absent.
 */

const unit = join(__dirname, '..', '..', '..', 'deploy', 'attendant.service');
const available = spawnSync('systemd-analyze', ['--version']).status === 0;
if (!available) console.log('skipped: the systemd unit check: systemd-analyze is not installed');
const maybe = available ? describe : describe.skip;

maybe('deploy/attendant.service', () => {
  const verify = (text: string): string => {
    const dir = mkdtempSync(join(tmpdir(), 'attendant-unit-'));
    try {
      writeFileSync(join(dir, 'attendant.service'), text);
      const r = spawnSync('systemd-analyze', ['verify', join(dir, 'attendant.service')], { encoding: 'utf8' });
      // Only what concerns this unit: systemd may also speak of the host's own units.
      return `${r.stdout}${r.stderr}`
        .split('\n')
        .filter((l) => l.includes('attendant.service'))
        .join('\n');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };

  it('is a unit systemd reads without a word', () => {
    expect(verify(readFileSync(unit, 'utf8'))).toBe('');
  });

  it('would be caught with a mistyped key', () => {
    expect(verify(readFileSync(unit, 'utf8').replace('KillMode=mixed', 'KilMode=mixed'))).toMatch(/Unknown key 'KilMode'/);
  });
});
