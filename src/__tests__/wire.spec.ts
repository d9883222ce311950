/// <reference types="node" />
/**
 * src/wire.ts is exactly what openapi-typescript makes of mlvc_server/openapi.yaml:
 * a change to the spec that is not regenerated (or a hand edit of wire.ts) fails here.
 */
import { spawnSync } from 'child_process';
import * as path from 'path';

const ROOT = path.resolve(__dirname, '..', '..');

describe('the wire types', () => {
  it('are generated from the current openapi.yaml', () => {
    const run = spawnSync(
      process.execPath,
      [path.join(ROOT, 'scripts', 'wire.mjs'), '--check'],
      { cwd: ROOT, encoding: 'utf8', timeout: 60000 }
    );
    expect(run.stderr).toBe('');
    expect(run.stdout).toContain('src/wire.ts matches');
    expect(run.status).toBe(0);
  });
});
