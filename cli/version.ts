// The version of this package (package.json next to cli/ or dist/cli/).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export function wingmanVersion(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 4; i++) {
    try {
      const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'wingman' && pkg.version) return pkg.version;
    } catch {
      /* keep looking upwards */
    }
    dir = path.dirname(dir);
  }
  return 'unknown';
}
