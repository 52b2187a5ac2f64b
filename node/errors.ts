/**
 * Errors a user can act on. The CLI prints `message` on one line and exits with `exitCode`
 * instead of showing a stack trace.
 */
export class SwarmError extends Error {
  readonly exitCode: number
  constructor (message: string, exitCode = 2) {
    super(message)
    this.name = 'SwarmError'
    this.exitCode = exitCode
  }
}

/** An invalid configuration value: names the field and what is wrong with it. */
export class ConfigError extends SwarmError {
  readonly field: string
  constructor (field: string, problem: string) {
    super(`invalid config: ${field}: ${problem}`)
    this.name = 'ConfigError'
    this.field = field
  }
}

/** A key file that cannot be read or does not hold a valid private key. */
export class KeyFileError extends SwarmError {
  constructor (file: string, problem: string) {
    super(`key file ${file}: ${problem}`)
    this.name = 'KeyFileError'
  }
}

/** A socket that could not be bound (address in use, not available, no permission). */
export class ListenError extends SwarmError {
  constructor (what: string, address: string, problem: string) {
    super(`cannot listen for ${what} on ${address}: ${problem}`)
    this.name = 'ListenError'
  }
}

/** Turns a Node system error into a short phrase ("address already in use"). */
export function describeSystemError (err: unknown): string {
  const e = err as NodeJS.ErrnoException | undefined
  switch (e?.code) {
    case 'EADDRINUSE': return 'address already in use'
    case 'EADDRNOTAVAIL': return 'address not available on this machine'
    case 'EACCES': return 'permission denied'
    case 'ENOENT': return 'no such file'
    case 'EISDIR': return 'is a directory'
    default: return e?.message ?? String(err)
  }
}
