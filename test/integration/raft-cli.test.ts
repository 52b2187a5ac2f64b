import { strict as assert } from 'node:assert'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { killAll, runCli, spawnCli, type CliProcess } from '../harness/cli.js'
import { waitFor, withDeadline } from '../harness/wait.js'

interface RaftStatus { role: string, term: number, leader: string | null, commitIndex: number, appliedIndex: number, voters: string[], formation: { state: string } }
interface Member { dir: string, proc: CliProcess, peerId: string, api: string }

const tmp = (): string => mkdtempSync(join(tmpdir(), 'swarmnet-raft-cli-'))
const args = (dir: string, ...extra: string[]): string[] =>
  ['--listen', '/ip4/127.0.0.1/tcp/0', '--api', '127.0.0.1:0', '--data-dir', dir, '--log-level', 'warn', ...extra]

async function raft (api: string): Promise<RaftStatus | undefined> {
  try {
    const res = await fetch(`${api}/v1/status`, { signal: AbortSignal.timeout(2000) })
    return (await res.json() as { raft: RaftStatus }).raft
  } catch {
    return undefined
  }
}

async function put (api: string, key: string, value: unknown, timeoutMs: number): Promise<number> {
  const res = await fetch(`${api}/v1/kv/${key}?timeoutMs=${timeoutMs}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ value }),
    signal: AbortSignal.timeout(timeoutMs + 2000)
  })
  await res.body?.cancel()
  return res.status
}

async function staleGet (api: string, key: string): Promise<unknown> {
  const res = await fetch(`${api}/v1/kv/${key}?consistency=stale`)
  return res.status === 200 ? (await res.json() as { value: unknown }).value : undefined
}

/** Exactly one leader among `members`, followed by every one of them. */
async function oneLeader (members: Member[], timeoutMs: number): Promise<Member> {
  let found: Member | undefined
  let last = ''
  await waitFor(async () => {
    const sts = await Promise.all(members.map(async m => raft(m.api)))
    last = JSON.stringify(sts.map(s => [s?.role, s?.term, s?.leader?.slice(-6), s?.formation.state]))
    const ls = members.filter((_, i) => sts[i]?.role === 'leader')
    if (ls.length !== 1) return false
    found = ls[0]
    return sts.every(s => s?.leader === found!.peerId && s.voters.length === 3)
  }, { timeoutMs, intervalMs: 50, message: () => `one leader followed by all: ${last}` })
  return found!
}

describe('raft cluster of 3 CLI processes', function () {
  this.timeout(90_000)
  afterEach(killAll)

  it('forms through one bootstrap peer, survives SIGKILL of the leader without losing an acknowledged write, and a restarted member catches up', async () => {
    const boot = spawnCli(['bootstrap', ...args(tmp())])
    const bootAddr = (await boot.ready).addrs[0]!
    const start = async (dir: string): Promise<Member> => {
      const proc = spawnCli(['start', ...args(dir, '--voters', '3', '--bootstrap', bootAddr)])
      const ready = await proc.ready
      return { dir, proc, peerId: ready.peerId, api: ready.api! }
    }
    const members = await Promise.all([tmp(), tmp(), tmp()].map(start))
    const leader = await oneLeader(members, 30_000)

    // The kv commands are clients of the API.
    const putCli = await runCli(['kv', 'put', '--api', members[0]!.api, 'config/risk', '{"maxPosition":5}'])
    assert.equal(putCli.code, 0, putCli.stderr)
    const { version } = JSON.parse(putCli.stdout) as { version: number }
    const getCli = await runCli(['kv', 'get', '--api', members[1]!.api, 'config/risk'])
    assert.equal(getCli.code, 0, getCli.stderr)
    assert.deepEqual(JSON.parse(getCli.stdout), { key: 'config/risk', value: { maxPosition: 5 }, version })
    const cas = await runCli(['kv', 'put', '--api', members[2]!.api, '--prev-version', String(version + 1), 'config/risk', '1'])
    assert.equal(cas.code, 1)
    assert.match(cas.stderr, /409 conflict/)
    assert.equal((await runCli(['kv', 'del', '--api', members[2]!.api, 'config/risk'])).code, 0)
    const missing = await runCli(['kv', 'get', '--api', members[2]!.api, 'config/risk'])
    assert.equal(missing.code, 1)
    assert.match(missing.stderr, /404 not_found/)

    // Writers on every member, through the kill: only 200s count as acknowledged.
    const acked = new Map<string, number>()
    let writing = true
    let seq = 0
    const writer = async (m: Member): Promise<void> => {
      while (writing) {
        const n = seq++
        const key = `w${n}`
        const status = await put(m.api, key, n, 1000).catch(() => 0)
        if (status === 200) acked.set(key, n)
        else if (status === 0) return // this member is gone
      }
    }
    const writers = members.map(writer)
    await waitFor(() => acked.size >= 20, { message: 'some writes before the kill' })
    const ackedBeforeKill = acked.size
    leader.proc.proc.kill('SIGKILL')
    await withDeadline(leader.proc.exit, 5000, 'the leader to die')
    const survivors = members.filter(m => m !== leader)
    const next = await oneLeader(survivors, 20_000)
    assert.notEqual(next.peerId, leader.peerId)
    // A new leader commits: writes succeed again.
    await waitFor(() => acked.size >= ackedBeforeKill + 20, { timeoutMs: 20_000, message: 'writes to be acknowledged again after the failover' })
    writing = false
    await Promise.all(writers)

    // The killed member comes back from its data dir and catches up.
    const restarted = await start(leader.dir)
    assert.equal(restarted.peerId, leader.peerId)
    const back = [...survivors, restarted]
    await oneLeader(back, 30_000)
    const commit = (await raft(next.api))!.commitIndex
    await waitFor(async () => ((await raft(restarted.api))?.appliedIndex ?? 0) >= commit, { timeoutMs: 20_000, message: 'the restarted member to apply everything' })
    for (const m of back) {
      for (const [key, value] of acked) assert.equal(await staleGet(m.api, key), value, `${key} on ${m.peerId.slice(-6)}`)
    }
  })

  it('a whole cluster SIGKILLed at once comes back with both state machines: the newest snapshot file, then the log after it', async () => {
    const boot = spawnCli(['bootstrap', ...args(tmp())])
    const bootAddr = (await boot.ready).addrs[0]!
    // A snapshot every 100 entries: the logs are compacted many times over.
    const start = async (dir: string): Promise<Member> => {
      const proc = spawnCli(['start', ...args(dir, '--voters', '3', '--bootstrap', bootAddr, '--snapshot-entries', '100')])
      const ready = await proc.ready
      return { dir, proc, peerId: ready.peerId, api: ready.api! }
    }
    let members = await Promise.all([tmp(), tmp(), tmp()].map(start))
    await oneLeader(members, 30_000)
    const lock = async (api: string): Promise<number> => {
      const res = await fetch(`${api}/v1/locks/book`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ttlMs: 60_000 }) })
      assert.equal(res.status, 200)
      const { fencingToken } = await res.json() as { fencingToken: number }
      const rel = await fetch(`${api}/v1/locks/book`, { method: 'DELETE', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ fencingToken }) })
      assert.equal(rel.status, 200)
      return fencingToken
    }
    const tokenBefore = await lock(members[0]!.api)
    // Overwrites and deletes, so the state is not just the last entries.
    const want = new Map<string, number>()
    for (let i = 0; i < 600; i++) {
      const key = `k${i % 70}`
      if (i % 11 === 10) {
        assert.equal((await fetch(`${members[i % 3]!.api}/v1/kv/${key}`, { method: 'DELETE' })).status === 503, false)
        want.delete(key)
      } else {
        assert.equal(await put(members[i % 3]!.api, key, i, 5000), 200)
        want.set(key, i)
      }
    }
    const commit = (await raft(members[0]!.api))!.commitIndex
    await waitFor(async () => (await Promise.all(members.map(async m => (await raft(m.api))?.appliedIndex ?? 0))).every(a => a >= commit), { message: 'every member applied everything' })
    for (const m of members) m.proc.proc.kill('SIGKILL')
    await Promise.all(members.map(async m => withDeadline(m.proc.exit, 5000, 'a member to die')))

    members = await Promise.all(members.map(async m => start(m.dir)))
    await oneLeader(members, 30_000)
    for (const m of members) {
      const st = (await raft(m.api)) as RaftStatus & { compactedIndex: number }
      assert.ok(st.compactedIndex > 0, 'the log was compacted: the state comes from a snapshot file')
      for (let k = 0; k < 70; k++) assert.equal(await staleGet(m.api, `k${k}`), want.get(`k${k}`), `k${k} on ${m.peerId.slice(-6)}`)
    }
    // The coordination state came back too: fencing tokens keep growing.
    assert.ok(await lock(members[1]!.api) > tokenBefore)
  })
})
