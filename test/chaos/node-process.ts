/**
 * The parent's side of a chaos worker: spawns it, waits for its ready line, sends requests and
 * matches replies, SIGKILLs and restarts it from the same data dir. A request to a worker that
 * dies before answering, or that misses its deadline, comes back `info` (it may have taken
 * effect); one that could not be sent at all comes back `down` (it certainly did not).
 *
 * Every spawned process is in `live` until it exits, and an exit hook SIGKILLs whatever is left,
 * so no worker outlives the run; workers also exit on their own when their stdin closes.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import type { OkFields, ReadyLine, Reply, Request, WorkerConfig } from './protocol.js'

const WORKER = fileURLToPath(new URL('./worker.js', import.meta.url))
const READY_DEADLINE_MS = 30_000

export type Outcome =
  | ({ type: 'ok' } & OkFields)
  | { type: 'fail' | 'info', error: string, message: string }
  | { type: 'down' }

const live = new Set<ChildProcess>()
let hooked = false

function killLeftovers (): void {
  for (const p of live) p.kill('SIGKILL')
}

export class NodeProcess {
  peerId = ''
  addrs: string[] = []
  private proc: ChildProcess | null = null
  private exited: Promise<void> = Promise.resolve()
  private readonly pending = new Map<number, (o: Outcome) => void>()
  private nextId = 1
  private stderrTail = ''
  private upWaiters: Array<() => void> = []
  private alive = false

  constructor (readonly name: string, private readonly config: WorkerConfig) {
    if (!hooked) {
      hooked = true
      process.on('exit', killLeftovers)
    }
  }

  /** Started, ready and not killed since. */
  get up (): boolean { return this.alive }

  /** The last lines the worker wrote to stderr (a crash's stack). */
  get stderr (): string { return this.stderrTail }

  /** Spawns the worker and resolves once it is ready; rejects if it exits or stalls first. */
  async start (): Promise<ReadyLine> {
    if (this.proc !== null) throw new Error(`${this.name} is already running`)
    const proc = spawn(process.execPath, [WORKER, JSON.stringify(this.config)], { stdio: ['pipe', 'pipe', 'pipe'] })
    this.proc = proc
    live.add(proc)
    this.stderrTail = ''
    proc.stderr!.on('data', (d: Buffer) => { this.stderrTail = (this.stderrTail + d.toString()).slice(-4000) })
    // Writes to a worker that just died fail with EPIPE; its exit handles the rest.
    proc.stdin!.on('error', () => {})
    this.exited = new Promise(resolve => {
      proc.once('exit', () => {
        live.delete(proc)
        if (this.proc === proc) this.proc = null
        this.alive = false
        for (const settle of this.pending.values()) settle({ type: 'info', error: 'crashed', message: `${this.name} exited before answering` })
        this.pending.clear()
        resolve()
      })
    })
    const ready = new Promise<ReadyLine>((resolve, reject) => {
      const timer = setTimeout(() => { reject(new Error(`${this.name} was not ready within ${READY_DEADLINE_MS} ms; stderr: ${this.stderrTail}`)) }, READY_DEADLINE_MS)
      void this.exited.then(() => {
        clearTimeout(timer)
        reject(new Error(`${this.name} exited before it was ready; stderr: ${this.stderrTail}`))
      })
      let first = true
      createInterface({ input: proc.stdout! }).on('line', line => {
        let msg: unknown
        try {
          msg = JSON.parse(line)
        } catch {
          return
        }
        if (first) {
          first = false
          clearTimeout(timer)
          resolve(msg as ReadyLine)
          return
        }
        const r = msg as Reply
        const settle = this.pending.get(r.id)
        if (settle === undefined) return // answered after its deadline: already recorded as unknown
        this.pending.delete(r.id)
        settle(r.type === 'ok' ? { ...r } : { type: r.type, error: r.error, message: r.message })
      })
    })
    try {
      const line = await ready
      this.peerId = line.peerId
      this.addrs = line.addrs
      // The same port next time: peers still have it in their address books.
      const port = Number(/\/tcp\/(\d+)/.exec(line.addrs[0] ?? '')?.[1] ?? 0)
      if (port > 0) this.config.port = port
      this.alive = true
      for (const w of this.upWaiters.splice(0)) w()
      return line
    } catch (err) {
      this.kill()
      await this.exited
      throw err
    }
  }

  /** Resolves the next time the worker is up (now if it is). */
  async whenUp (): Promise<void> {
    if (this.alive) return
    await new Promise<void>(resolve => { this.upWaiters.push(resolve) })
  }

  async call (req: Request, deadlineMs: number): Promise<Outcome> {
    const proc = this.proc
    if (!this.alive || proc === null) return { type: 'down' }
    const id = this.nextId++
    return await new Promise<Outcome>(resolve => {
      const timer = setTimeout(() => {
        if (!this.pending.delete(id)) return
        resolve({ type: 'info', error: 'deadline', message: `no answer from ${this.name} within ${deadlineMs} ms` })
      }, deadlineMs)
      this.pending.set(id, o => { clearTimeout(timer); resolve(o) })
      proc.stdin!.write(JSON.stringify({ id, ...req }) + '\n')
    })
  }

  /** SIGKILL; resolves once the process is gone. */
  async crash (): Promise<void> {
    this.kill()
    await this.exited
  }

  private kill (): void {
    this.alive = false
    this.proc?.kill('SIGKILL')
  }
}
