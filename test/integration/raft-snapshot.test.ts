import { strict as assert } from 'node:assert'
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { killAll, spawnCli, type CliProcess } from '../harness/cli.js'
import { waitFor, withDeadline } from '../harness/wait.js'
import { SwarmnetClient } from '../../node/http-client.js'
import { RaftUnavailableError } from '../../protocols/raft/errors.js'

interface RaftStatus { role: string, leader: string | null, commitIndex: number, appliedIndex: number, voters: string[], learners: string[] }
interface Member { dir: string, proc: CliProcess, peerId: string, api: string }

const tmp = (): string => mkdtempSync(join(tmpdir(), 'swarmnet-snap-'))

async function raft (api: string): Promise<RaftStatus | undefined> {
  try {
    return (await (await fetch(`${api}/v1/status`, { signal: AbortSignal.timeout(2000) })).json() as { raft: RaftStatus }).raft
  } catch {
    return undefined
  }
}

/** Resident set size of a process, in MB (Linux). */
function rssMb (pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  return m === null ? 0 : Number(m[1]) / 1024
}

describe('raft snapshots, voter replacement and handover (CLI processes)', function () {
  this.timeout(240_000)
  afterEach(killAll)

  it('a member offline during 100,000 writes catches up through a snapshot with bounded memory', async () => {
    const boot = spawnCli(['bootstrap', '--listen', '/ip4/127.0.0.1/tcp/0', '--api', '127.0.0.1:0', '--data-dir', tmp(), '--log-level', 'warn'])
    const bootAddr = (await boot.ready).addrs[0]!
    const start = async (dir: string): Promise<Member> => {
      const proc = spawnCli(['start', '--listen', '/ip4/127.0.0.1/tcp/0', '--api', '127.0.0.1:0', '--data-dir', dir, '--log-level', 'warn', '--voters', '3', '--bootstrap', bootAddr, '--snapshot-entries', '10000'])
      const ready = await proc.ready
      return { dir, proc, peerId: ready.peerId, api: ready.api! }
    }
    const members = await Promise.all([tmp(), tmp(), tmp()].map(start))
    let leader: Member | undefined
    await waitFor(async () => {
      const sts = await Promise.all(members.map(async m => raft(m.api)))
      leader = members.find((_, i) => sts[i]?.role === 'leader')
      return leader !== undefined && sts.every(s => s?.leader === leader!.peerId)
    }, { timeoutMs: 30_000, message: 'a leader' })
    const lagger = members.find(m => m !== leader)!
    lagger.proc.proc.kill('SIGKILL')
    await withDeadline(lagger.proc.exit, 5000, 'the follower to die')

    const client = new SwarmnetClient({ url: leader!.api, maxRequests: 4, maxBatch: 500 })
    const TOTAL = 100_000
    let next = 0
    await Promise.all(Array.from({ length: 256 }, async () => {
      while (next < TOTAL) {
        const i = next++
        // Two voters on two busy cores may elect again; a write the old leader may have lost is
        // simply put again (the same value: idempotent). The subject here is the catch-up.
        for (let attempt = 0; ; attempt++) {
          try {
            await client.kv.put(`k/${i % 5000}`, i, { timeoutMs: 20_000 })
            break
          } catch (err) {
            if (!(err instanceof RaftUnavailableError) || attempt >= 5) throw err
          }
        }
      }
    }))
    client.close()
    const commit = (await raft(leader!.api))!.commitIndex
    assert.ok(commit >= TOTAL)
    // The leader compacted its log: the follower cannot be sent entries it no longer has.
    assert.ok(readdirSync(join(leader!.dir, 'snapshots')).some(f => f.endsWith('.snap')), 'the leader has a snapshot file')

    const back = await start(lagger.dir)
    const base = rssMb(back.proc.proc.pid!)
    let peak = base
    const sampler = setInterval(() => { try { peak = Math.max(peak, rssMb(back.proc.proc.pid!)) } catch { /* exited */ } }, 50)
    try {
      await waitFor(async () => ((await raft(back.api))?.appliedIndex ?? 0) >= commit, { timeoutMs: 120_000, intervalMs: 100, message: 'the restarted member to catch up' })
    } finally {
      clearInterval(sampler)
    }
    assert.ok(readdirSync(join(back.dir, 'snapshots')).some(f => f.endsWith('.snap')), 'it caught up through a snapshot')
    // 100,000 entries of ~60 bytes replayed one by one would hold them all; the snapshot holds
    // the 5,000 keys. A generous bound on growth, not a timing.
    assert.ok(peak - base < 150, `RSS grew by ${Math.round(peak - base)} MB while catching up (from ${Math.round(base)} MB)`)
    const got = await (await fetch(`${back.api}/v1/kv/k/4999?consistency=stale`)).json() as { value: number }
    assert.equal(got.value % 5000, 4999)
  })

  it('a SIGKILLed voter is replaced by the learner within the configured time; SIGTERM of the leader hands leadership over before it exits', async () => {
    const boot = spawnCli(['bootstrap', '--listen', '/ip4/127.0.0.1/tcp/0', '--api', '127.0.0.1:0', '--data-dir', tmp(), '--log-level', 'warn'])
    const bootAddr = (await boot.ready).addrs[0]!
    const start = async (dir: string): Promise<Member> => {
      const proc = spawnCli(['start', '--listen', '/ip4/127.0.0.1/tcp/0', '--api', '127.0.0.1:0', '--data-dir', dir, '--log-level', 'warn', '--voters', '3', '--bootstrap', bootAddr, '--replace-dead-voter-ms', '3000'])
      const ready = await proc.ready
      return { dir, proc, peerId: ready.peerId, api: ready.api! }
    }
    const voters = await Promise.all([tmp(), tmp(), tmp()].map(start))
    await waitFor(async () => (await raft(voters[0]!.api))?.voters.length === 3, { timeoutMs: 30_000, message: 'the cluster formed' })
    const learner = await start(tmp())
    const all = [...voters, learner]
    const statuses = async (ms: Member[]): Promise<Array<RaftStatus | undefined>> => await Promise.all(ms.map(async m => raft(m.api)))
    await waitFor(async () => (await statuses(all)).every(s => s?.learners.includes(learner.peerId) === true && s.leader !== null), { timeoutMs: 30_000, message: 'the fourth member a learner everywhere' })
    let leaderId = (await raft(voters[0]!.api))!.leader!
    const victim = voters.find(m => m.peerId !== leaderId)!
    const t0 = Date.now()
    victim.proc.proc.kill('SIGKILL')
    await withDeadline(victim.proc.exit, 5000, 'the voter to die')
    const rest = all.filter(m => m !== victim)
    await waitFor(async () => (await statuses(rest)).every(s => s !== undefined && s.voters.includes(learner.peerId) && !s.voters.includes(victim.peerId)), { timeoutMs: 30_000, intervalMs: 100, message: 'the learner to replace the killed voter' })
    const took = Date.now() - t0
    // Silence counts from the last message heard, up to a heartbeat or two before the kill.
    assert.ok(took >= 3000 - 500 && took < 3000 + 10_000, `replaced after ${took} ms (configured 3000 ms)`)

    // SIGTERM: the leader hands over, so another member leads as soon as it has exited.
    leaderId = (await raft(learner.api))!.leader!
    const leader = rest.find(m => m.peerId === leaderId)!
    const term = async (m: Member): Promise<number> => ((await (await fetch(`${m.api}/v1/leader`)).json()) as { term: number }).term
    const before = await term(leader)
    leader.proc.proc.kill('SIGTERM')
    await withDeadline(leader.proc.exit, 10_000, 'the leader to exit')
    const others = rest.filter(m => m !== leader)
    const sts = await statuses(others)
    assert.ok(sts.some(s => s?.role === 'leader') || sts.every(s => s?.leader !== null && s?.leader !== leaderId), `a new leader right after the old one exited: ${JSON.stringify(sts.map(s => [s?.role, s?.leader?.slice(-6)]))}`)
    await waitFor(async () => (await statuses(others)).some(s => s?.role === 'leader'), { timeoutMs: 10_000, message: 'a leader' })
    assert.equal(await term(others[0]!), before + 1, 'one term: the handover, no election timeout')
  })
})
