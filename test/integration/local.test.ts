import { strict as assert } from 'node:assert'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { spawnCli, killAll, isAlive, status } from '../harness/cli.js'
import { waitFor, withDeadline } from '../harness/wait.js'

interface Row { name: string, role: string, pid: number, peerId: string, api: string }

function table (lines: string[]): Row[] {
  return lines.filter(l => /^(bootstrap|node-\d+)\s+(bootstrap|member)\s+\d+\s/.test(l)).map(l => {
    const [name, role, pid, peerId, api] = l.trim().split(/\s+/) as [string, string, string, string, string]
    return { name, role, pid: Number(pid), peerId, api }
  })
}

describe('swarmnet local', function () {
  this.timeout(90_000)
  afterEach(killAll)

  it('starts 5 connected nodes and a bootstrap peer, and SIGTERM stops every process', async () => {
    const root = mkdtempSync(join(tmpdir(), 'swarmnet-local-'))
    const p = spawnCli(['local', '--nodes', '5', '--data-dir', root])
    await p.line(/^swarm connected: all 6 nodes/, 60_000)
    const rows = table(p.stdoutLines)
    assert.equal(rows.length, 6)
    assert.deepEqual(rows.map(r => r.name), ['bootstrap', 'node-1', 'node-2', 'node-3', 'node-4', 'node-5'])
    const st = await status(rows[3]!.api)
    assert.equal(st.peers.length, 5)
    assert.ok(rows.every(r => isAlive(r.pid)))

    p.proc.kill('SIGTERM')
    const { code } = await withDeadline(p.exit, 15_000, 'swarmnet local to exit')
    assert.equal(code, 0)
    assert.deepEqual(rows.filter(r => isAlive(r.pid)).map(r => r.name), [], 'no child left behind')
  })

  it('leaves no orphans even when the launcher itself is killed', async () => {
    const root = mkdtempSync(join(tmpdir(), 'swarmnet-local-'))
    const p = spawnCli(['local', '--nodes', '2', '--data-dir', root])
    await p.line(/^swarm connected/, 60_000)
    const rows = table(p.stdoutLines)
    p.proc.kill('SIGKILL')
    await p.exit
    await waitFor(() => rows.every(r => !isAlive(r.pid)), { timeoutMs: 10_000, message: 'children to stop after their parent died' })
  })
})
