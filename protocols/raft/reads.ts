/**
 * Linearizable reads waiting on ReadIndex (thesis §6.4): each has a context id; the core names
 * the index it may be served from (Ready.readStates), and it is served once this node has
 * applied that index. The core forgets reads lost on the way (leader gone, message lost), so
 * unconfirmed ones are asked again whenever a new leader appears, and every read has a deadline.
 */
export interface ReadWait {
  ctx: string
  /** Set once confirmed: serve when applied >= index. */
  index: number | null
  resolve: () => void
  reject: (e: Error) => void
  timer: ReturnType<typeof setTimeout>
}

export class ReadWaits {
  private readonly waits = new Map<string, ReadWait>()

  get size (): number { return this.waits.size }

  add (ctx: string, timeoutMs: number, onTimeout: () => Error): Promise<void> {
    return new Promise((resolve, reject) => {
      const w: ReadWait = {
        ctx,
        index: null,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.waits.delete(ctx)
          reject(onTimeout())
        }, timeoutMs)
      }
      this.waits.set(ctx, w)
    })
  }

  /** Reads not confirmed yet (to ask a new leader again). */
  unconfirmed (): string[] {
    return [...this.waits.values()].filter(w => w.index === null).map(w => w.ctx)
  }

  confirm (ctx: string, index: number, applied: number): void {
    const w = this.waits.get(ctx)
    if (w === undefined) return
    w.index = index
    if (applied >= index) this.finish(w)
  }

  /** Serves every confirmed read whose index is applied. */
  applied (applied: number): void {
    for (const w of this.waits.values()) if (w.index !== null && w.index <= applied) this.finish(w)
  }

  fail (ctx: string, err: Error): void {
    const w = this.waits.get(ctx)
    if (w === undefined) return
    this.waits.delete(ctx)
    clearTimeout(w.timer)
    w.reject(err)
  }

  failAll (err: Error): void {
    for (const ctx of [...this.waits.keys()]) this.fail(ctx, err)
  }

  private finish (w: ReadWait): void {
    this.waits.delete(w.ctx)
    clearTimeout(w.timer)
    w.resolve()
  }
}
