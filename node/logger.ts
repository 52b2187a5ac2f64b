/** Structured logs: pino JSON lines on stderr, so stdout stays free for the ready line. */
import { pino, type Logger } from 'pino'
import type { LogLevel } from './config.js'

export type { Logger }

export function createLogger (level: LogLevel, bindings: Record<string, unknown> = {}): Logger {
  return pino({ level, base: { pid: process.pid, ...bindings } }, pino.destination({ fd: 2, sync: true }))
}

/** A logger that drops everything: the default for nodes embedded in tests and programs. */
export function silentLogger (): Logger {
  return pino({ level: 'silent' })
}
