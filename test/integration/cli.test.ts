import { strict as assert } from 'node:assert'
import { mkdtempSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs'
import { createServer, type Server } from 'node:net'
import { availableParallelism, tmpdir } from 'node:os'
import { join } from 'node:path'
import { runCli, spawnCli, killAll, status, type CliProcess } from '../harness/cli.js'
import { waitFor, withDeadline } from '../harness/wait.js'
import { v8Flags } from '../../node/v8-settings.js'

const tmp = (): string => mkdtempSync(join(tmpdir(), 'swarmnet-cli-'))
const local = (dir: string, ...extra: string[]): string[] =>
  ['--listen', '/ip4/127.0.0.1/tcp/0', '--api', '127.0.0.1:0', '--data-dir', dir, '--log-level', 'warn', ...extra]

/** A usage or config error: exit code 2 and exactly one line on stderr, no stack trace. */
async function expectExit2 (args: string[], pattern: RegExp, env?: Record<string, string>): Promise<void> {
  const { code, stderr } = await runCli(args, { env })
  // JSON lines are the node's logs; the error itself is the one plain line.
  const lines = stderr.trim().split('\n').filter(l => l !== '' && !l.startsWith('(run with --help') && !l.startsWith('{'))
  assert.equal(code, 2, `exit code for ${args.join(' ')}; stderr: ${stderr}`)
  assert.equal(lines.length, 1, `one line for ${args.join(' ')}, got: ${stderr}`)
  assert.match(lines[0]!, pattern)
  assert.ok(!/\n\s+at /.test(stderr), 'no stack trace')
}

async function holdPort (): Promise<{ server: Server, port: number }> {
  const server = createServer()
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  return { server, port: (server.address() as { port: number }).port }
}

describe('swarmnet CLI', function () {
  this.timeout(90_000)
  afterEach(killAll)

  it('describes every flag in --help', async () => {
    const top = await runCli(['--help'])
    assert.equal(top.code, 0)
    for (const cmd of ['start', 'bootstrap', 'keygen', 'swarm-key', 'local']) assert.match(top.stdout, new RegExp(`\\b${cmd}\\b`))
    const start = await runCli(['start', '--help'])
    assert.equal(start.code, 0)
    for (const flag of ['--listen', '--announce', '--bootstrap', '--data-dir', '--name', '--capabilities', '--swarm-key',
      '--allow-peers', '--api ', '--no-api', '--api-token', '--log-level', '--config']) {
      assert.ok(start.stdout.includes(flag), `start --help mentions ${flag}`)
    }
  })

  it('exits 2 with one clear line on bad input', async () => {
    const dir = tmp()
    await expectExit2(['start', '--bogus'], /unknown option '--bogus'/)
    await expectExit2(['start', ...local(dir, '--listen', '/ip4/999.0.0.1/tcp/1')], /listen\[1\].*not a valid multiaddr/)
    await expectExit2(['start', ...local(dir, '--bootstrap', '/ip4/127.0.0.1/tcp/4001')], /bootstrap\[0\].*\/p2p\//)
    writeFileSync(join(dir, 'corrupt.key'), 'garbage')
    await expectExit2(['start', ...local(dir, '--key-file', join(dir, 'corrupt.key'))], /corrupt\.key: corrupt/)
    mkdirSync(join(dir, 'dir.key'))
    await expectExit2(['start', ...local(dir, '--key-file', join(dir, 'dir.key'))], /dir\.key: cannot read/)
    writeFileSync(join(dir, 'bad.swarm'), 'nope')
    await expectExit2(['start', ...local(dir, '--swarm-key', join(dir, 'bad.swarm'))], /not a swarm key/)
    await expectExit2(['start', ...local(dir), '--api', '0.0.0.0:0'], /api: 0\.0\.0\.0 is not a loopback address/)
    await expectExit2(['start', ...local(dir)], /mdns: must be true or false/, { SWARMNET_MDNS: 'maybe' })
    writeFileSync(join(dir, 'c.json'), JSON.stringify({ nmae: 'typo' }))
    await expectExit2(['start', ...local(dir, '--config', join(dir, 'c.json'))], /nmae: unknown field/)
    await expectExit2(['local', '--nodes', 'many'], /--nodes must be an integer/)
  })

  it('exits 2 when a port is already in use (libp2p or API)', async () => {
    const { server, port } = await holdPort()
    try {
      await expectExit2(['start', '--listen', `/ip4/127.0.0.1/tcp/${port}`, '--no-api', '--data-dir', tmp()], /cannot listen.*address already in use/)
      await expectExit2(['start', '--listen', '/ip4/127.0.0.1/tcp/0', '--api', `127.0.0.1:${port}`, '--data-dir', tmp()], /cannot listen for the HTTP API.*address already in use/)
    } finally {
      server.close()
    }
  })

  it('takes flags over environment over config file', async () => {
    const dir = tmp()
    const configFile = join(dir, 'c.json')
    writeFileSync(configFile, JSON.stringify({ name: 'file-name', capabilities: ['from-file'], logLevel: 'warn' }))
    const run = async (env: Record<string, string>, extra: string[]): Promise<{ name: string, caps: string[] }> => {
      const p = spawnCli(['start', '--config', configFile, '--listen', '/ip4/127.0.0.1/tcp/0', '--api', '127.0.0.1:0', '--data-dir', dir, ...extra], { env })
      const ready = await p.ready
      const st = await status(ready.api!)
      p.proc.kill('SIGTERM')
      assert.equal((await p.exit).code, 0)
      return { name: ready.name, caps: st.capabilities }
    }
    assert.deepEqual(await run({ SWARMNET_NAME: 'env-name' }, ['--name', 'flag-name']), { name: 'flag-name', caps: ['from-file'] })
    assert.deepEqual(await run({ SWARMNET_NAME: 'env-name', SWARMNET_CAPABILITIES: 'from-env' }, []), { name: 'env-name', caps: ['from-env'] })
    assert.deepEqual(await run({}, []), { name: 'file-name', caps: ['from-file'] })
  })

  it('keeps the identity across restarts, and uses a key from keygen', async () => {
    const dir = tmp()
    const first = spawnCli(['start', ...local(dir)])
    const id = (await first.ready).peerId
    first.proc.kill('SIGTERM')
    assert.equal((await first.exit).code, 0)
    const second = spawnCli(['start', ...local(dir)])
    assert.equal((await second.ready).peerId, id)
    second.proc.kill('SIGTERM')
    await second.exit

    const keyFile = join(dir, 'made.key')
    const gen = await runCli(['keygen', '--out', keyFile])
    assert.equal(gen.code, 0)
    const made = JSON.parse(gen.stdout) as { peerId: string }
    const third = spawnCli(['start', ...local(tmp(), '--key-file', keyFile)])
    assert.equal((await third.ready).peerId, made.peerId)
    assert.equal((await runCli(['keygen', '--out', keyFile])).code, 2, 'keygen will not overwrite')
  })

  it('prints one ready line with dialable addresses, and exits 0 on SIGTERM and SIGINT', async () => {
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      const p = spawnCli(['start', ...local(tmp())])
      const ready = await p.ready
      assert.equal(ready.event, 'ready')
      assert.match(ready.peerId, /^12D3KooW/)
      assert.ok(ready.addrs.length > 0 && ready.addrs.every(a => a.endsWith(`/p2p/${ready.peerId}`)))
      assert.match(ready.api!, /^http:\/\/127\.0\.0\.1:\d+$/)
      assert.equal(p.stdoutLines.length, 1, 'stdout holds only the ready line')
      p.proc.kill(signal)
      const { code } = await withDeadline(p.exit, 5000, `exit after ${signal}`)
      assert.equal(code, 0)
    }
  })

  it('a daemon runs with V8\'s worker pool sized to the host and small semi-spaces, in the same process; SWARMNET_V8_* override them', async () => {
    // Reads /proc, as the snapshot test does: the suite runs on Linux (.ci/run), on the pinned Node 24.
    const expected = v8Flags({ cores: availableParallelism(), env: {}, execArgv: [] })
    const cases: Array<[Record<string, string>, string[]]> = [
      [{}, expected],
      [{ SWARMNET_V8_POOL_SIZE: '3', SWARMNET_V8_SEMI_SPACE_MB: '4' }, ['--v8-pool-size=3', '--max-semi-space-size=4']],
      [{ SWARMNET_V8_POOL_SIZE: '0', SWARMNET_V8_SEMI_SPACE_MB: '0' }, []]
    ]
    for (const [env, want] of cases) {
      const p = spawnCli(['start', ...local(tmp())], { env })
      await p.ready
      const flags = readFileSync(`/proc/${p.proc.pid!}/cmdline`, 'utf8').split('\0').filter(a => a.startsWith('--v8-pool-size') || a.startsWith('--max-semi-space-size'))
      assert.deepEqual(flags, want, JSON.stringify(env))
      p.proc.kill('SIGTERM')
      assert.equal((await withDeadline(p.exit, 5000, 'exit after SIGTERM')).code, 0)
    }
    await expectExit2(['start', ...local(tmp())], /^swarmnet: SWARMNET_V8_POOL_SIZE must be an integer from 0 .* got "lots"$/, { SWARMNET_V8_POOL_SIZE: 'lots' })
    await expectExit2(['start', ...local(tmp())], /^swarmnet: SWARMNET_V8_SEMI_SPACE_MB must be an integer from 0 .* got "huge"$/, { SWARMNET_V8_SEMI_SPACE_MB: 'huge' })
  })

  it('requires the API token when one is set', async () => {
    const token = 'a-long-and-secret-api-token'
    const p = spawnCli(['start', ...local(tmp(), '--api-token', token)])
    const { api } = await p.ready
    assert.equal((await fetch(`${api!}/v1/status`)).status, 401)
    assert.equal((await fetch(`${api!}/health`, { headers: { authorization: 'Bearer nope' } })).status, 401)
    assert.equal((await fetch(`${api!}/v1/status`, { headers: { authorization: `Bearer ${token}` } })).status, 200)
  })

  it('joins 3 nodes through one bootstrap peer; each lists the others in /v1/status', async () => {
    const boot = spawnCli(['bootstrap', ...local(tmp())])
    const bootReady = await boot.ready
    const nodes: CliProcess[] = [1, 2, 3].map(i => spawnCli(['start', ...local(tmp(), '--name', `n${i}`, '--bootstrap', bootReady.addrs[0]!)]))
    const ready = await Promise.all(nodes.map(async n => n.ready))
    const ids = [bootReady.peerId, ...ready.map(r => r.peerId)]
    await waitFor(async () => {
      const all = await Promise.all([bootReady, ...ready].map(async r => status(r.api!)))
      return all.every(st => ids.filter(id => id !== st.peerId).every(id => st.peers.some(p => p.peerId === id)))
    }, { timeoutMs: 20_000, message: 'every node listing the 3 others' })
  })

  it('sends, publishes and listens through a node\'s API (send, publish, listen)', async () => {
    const boot = spawnCli(['bootstrap', ...local(tmp())])
    const addr = (await boot.ready).addrs[0]!
    const [a, b] = await Promise.all([1, 2].map(async i => spawnCli(['start', ...local(tmp(), '--name', `c${i}`, '--bootstrap', addr)]).ready))
    await waitFor(async () => (await status(a!.api!)).peers.some(p => p.peerId === b!.peerId), { message: 'a to see b' })
    const listen = spawnCli(['listen', '--api', b!.api!, '--types', 'market_signal'])
    await waitFor(() => listen.stderr().includes('listening'), { message: 'the listener to connect' })
    const sent = await runCli(['send', '--api', a!.api!, b!.peerId, 'market_signal', '{"sym":"SOL"}'])
    assert.equal(sent.code, 0, sent.stderr)
    const ack = JSON.parse(sent.stdout) as { acked: boolean, messageId: string }
    assert.equal(ack.acked, true)
    const line = JSON.parse(await listen.line(/market_signal/, 10_000)) as { messageId: string, from: string, payload: unknown }
    assert.equal(line.messageId, ack.messageId)
    assert.equal(line.from, a!.peerId)
    assert.deepEqual(line.payload, { sym: 'SOL' })

    const pub = await runCli(['publish', '--api', a!.api!, 'ticks', 'market_signal', 'plain text'])
    assert.equal(pub.code, 0, pub.stderr)
    assert.equal(typeof (JSON.parse(pub.stdout) as { recipients: number }).recipients, 'number')
    const bad = await runCli(['send', '--api', a!.api!, b!.peerId, 'bad type!'])
    assert.equal(bad.code, 2)
    assert.match(bad.stderr, /400 invalid_body/)
    const down = await runCli(['send', '--api', 'http://127.0.0.1:1', b!.peerId, 'heartbeat'])
    assert.equal(down.code, 1)
    assert.match(down.stderr, /cannot reach the swarmnet API/)
  })
})
