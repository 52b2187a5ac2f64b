/**
 * Waiting with deadlines: tests wait for a condition or an event, never for a fixed time.
 * A condition that does not become true in time fails with the test's own description.
 */
export async function waitFor (
  condition: () => boolean | Promise<boolean>,
  opts: { timeoutMs?: number, intervalMs?: number, message?: string | (() => string) } = {}
): Promise<void> {
  const timeoutMs = opts.timeoutMs ?? 15_000
  const intervalMs = opts.intervalMs ?? 50
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (await condition()) return
    if (Date.now() >= deadline) {
      const msg = typeof opts.message === 'function' ? opts.message() : opts.message
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${msg ?? 'a condition'}`)
    }
    await new Promise(resolve => setTimeout(resolve, intervalMs))
  }
}

/** Resolves with the first value `promise` yields, or rejects after `timeoutMs`. */
export async function withDeadline<T> (promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const late = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => { reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)) }, timeoutMs)
  })
  try {
    return await Promise.race([promise, late])
  } finally {
    clearTimeout(timer)
  }
}
