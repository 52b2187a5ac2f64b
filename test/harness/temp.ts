import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/**
 * Call inside a describe: returns a maker of fresh temp dirs named `<prefix>XXXXXX`, all removed
 * after the describe's tests.
 */
export function tempDirs (prefix: string): () => string {
  const dirs: string[] = []
  after(() => { for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true }) })
  return () => {
    const d = mkdtempSync(join(tmpdir(), prefix))
    dirs.push(d)
    return d
  }
}
