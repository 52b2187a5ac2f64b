/** `swarmnet keygen`: writes a fresh identity key file and prints its peer id. */
import { join } from 'node:path'
import { generateIdentity, peerIdOf, writeKeyFile } from '../identity.js'

export async function runKeygen (opts: { out?: string, dataDir?: string, force?: boolean }): Promise<void> {
  const file = opts.out ?? join(opts.dataDir ?? process.env.SWARMNET_DATA_DIR ?? './.swarmnet', 'identity.key')
  const key = await generateIdentity()
  writeKeyFile(file, key, opts.force === true)
  process.stdout.write(JSON.stringify({ peerId: peerIdOf(key), file }) + '\n')
}
