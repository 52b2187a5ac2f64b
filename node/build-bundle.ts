/**
 * Build step (`npm run build`, after tsc): generates the route validators (api/precompile.ts), bundles the compiled CLI into dist/swarmnet.mjs, which
 * node/main.ts loads. Native addons stay outside (they load their prebuilt binaries from their own
 * package dirs). Names are kept: code that reads a class's name sees the one in the source.
 */
import { build } from 'esbuild'
import { fileURLToPath } from 'node:url'
import { precompileValidators } from './api/precompile.js'

const dist = (rel: string): string => fileURLToPath(new URL(`../${rel}`, import.meta.url))

// First the route validators (the bundle takes them in).
await precompileValidators(dist('node/api/precompiled-validators.js'))

await build({
  entryPoints: [dist('node/cli.js')],
  outfile: dist('swarmnet.mjs'),
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node22',
  external: ['classic-level', 'sodium-native'],
  keepNames: true,
  // CommonJS dependencies call require(); an ES module has none of its own.
  banner: { js: "import { createRequire as __swarmnetRequire } from 'node:module'; const require = __swarmnetRequire(import.meta.url);" },
  logLevel: 'warning'
})
