#!/usr/bin/env node
/**
 * The `swarmnet` command. It turns on Node's compile cache, then loads the CLI from one bundled
 * file (dist/swarmnet.mjs, made by `npm run build`): resolving and compiling some 1,500 modules
 * took about 0.6 s of CPU at every start, and a member restarted on a busy host competes with
 * the running members for that CPU (docs/benchmarks.md, rolling restart). Without the bundle (a
 * build that only ran tsc) it loads the modules one by one: slower to start, same behaviour.
 */
import module from 'node:module'
import { isDaemon, applyV8Settings, V8SettingError } from './v8-settings.js'

// A daemon sets V8's worker pool and young generation first (see v8-settings.ts).
if (isDaemon(process.argv.slice(2))) {
  try {
    applyV8Settings()
  } catch (err) {
    if (!(err instanceof V8SettingError)) throw err
    // A configuration error, reported like the others: one line, exit code 2.
    process.stderr.write(`swarmnet: ${err.message}\n`)
    process.exit(2)
  }
}

// Cached in the OS temp dir, keyed by content; NODE_DISABLE_COMPILE_CACHE=1 turns it off.
module.enableCompileCache?.()

const bundle = new URL('../swarmnet.mjs', import.meta.url)
try {
  await import(bundle.href)
} catch (err) {
  const e = err as { code?: string, message?: string }
  // Only a missing bundle falls back; an error inside the CLI is the CLI's to report.
  if (e.code !== 'ERR_MODULE_NOT_FOUND' || e.message?.includes(bundle.pathname) !== true) throw err
  await import('./cli.js')
}
