/** Reads a Server-Sent Events response in tests: `until(n)` waits, with a deadline, for n events. */
import { withDeadline } from './wait.js'

export interface SseEvent { event: string, data: Record<string, unknown> }

export function sseReader (res: Response): { events: SseEvent[], until: (n: number, timeoutMs?: number) => Promise<void> } {
  const reader = res.body!.getReader()
  const events: SseEvent[] = []
  let text = ''
  const until = async (n: number, timeoutMs = 10_000): Promise<void> => {
    await withDeadline((async () => {
      while (events.length < n) {
        const { value, done } = await reader.read()
        if (done) break
        text += new TextDecoder().decode(value)
        const parts = text.split('\n\n')
        text = parts.pop()!
        for (const p of parts) {
          const lines = p.split('\n')
          const data = lines.find(l => l.startsWith('data: '))
          if (data == null) continue // a comment such as ': connected'
          const ev = lines.find(l => l.startsWith('event: '))
          events.push({ event: ev?.slice(7) ?? 'message', data: JSON.parse(data.slice(6)) as Record<string, unknown> })
        }
      }
    })(), timeoutMs, `${n} events`)
  }
  return { events, until }
}
