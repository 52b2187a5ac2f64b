/**
 * The reference systems come from Debian's packages: a benchmark finds the binary, installs the
 * package when it is missing, or says why it cannot, so the comparison is skipped with a reason.
 */
import { spawnSync, execFileSync } from 'node:child_process'

export function debianBinary (command: string, pkg: string): { bin?: string, why?: string } {
  const which = (): string | undefined => spawnSync('sh', ['-c', `command -v ${command}`], { encoding: 'utf8' }).stdout.trim() || undefined
  let bin = which()
  if (bin != null) return { bin }
  process.stderr.write(`bench: ${command} is missing; installing Debian's ${pkg}\n`)
  const install = (): void => { execFileSync('apt-get', ['install', '-y', '-qq', pkg], { stdio: 'ignore' }) }
  try {
    install()
  } catch {
    try {
      // A fresh machine may not have the package lists yet.
      execFileSync('apt-get', ['update', '-qq'], { stdio: 'ignore' })
      install()
    } catch (err) {
      return { why: `${command} is not installed and apt-get could not install ${pkg} (${(err as Error).message.split('\n')[0]})` }
    }
  }
  bin = which()
  return bin != null ? { bin } : { why: `${pkg} could not be installed` }
}
