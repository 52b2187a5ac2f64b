/**
 * Build step (`npm run build`, after tsc): bundles the compiled CLI into dist/swarmnet.mjs, which
 * node/main.ts loads. Native addons stay outside (they load their prebuilt binaries from their own
 * package dirs). Names are kept: code that reads a class's name sees the one in the source.
 */
import { build } from 'esbuild'
import { fileURLToPath } from 'node:url'

const dist = (rel: string): string => fileURLToPath(new URL(`../${rel}`, import.meta.url))

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
