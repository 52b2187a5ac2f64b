import { strict as assert } from 'node:assert'
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { withDeadline } from '../harness/wait.js'

describe('stop()', () => {
  it('releases every socket, timer and file handle (the process exits on its own)', async () => {
    const script = fileURLToPath(new URL('../fixtures/start-stop.js', import.meta.url))
    const proc = spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    let err = ''
    proc.stdout.on('data', d => { out += String(d) })
    proc.stderr.on('data', d => { err += String(d) })
    const code = await withDeadline(new Promise<number | null>(resolve => proc.once('close', resolve)), 20_000,
      'the process to exit by itself after stop()').catch(e => { proc.kill('SIGKILL'); throw new Error(`${(e as Error).message}; active: ${err}`) })
    assert.equal(code, 0, err)
    assert.match(out, /stopped clean/)
  })
})
