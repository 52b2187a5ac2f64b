/**
 * The request validators of every route, compiled ahead of time. `npm run build` replaces this
 * module's output (dist/node/api/precompiled-validators.js) with the generated table
 * (node/api/precompile.ts); this empty one, tsc's output before that step, makes every route
 * compile its validator at startup instead.
 */

/** `hash` is of the schema the code was generated from; `load` evaluates the code. */
export interface PrecompiledValidator { hash: string, load: () => unknown }

export const PRECOMPILED: Record<string, PrecompiledValidator> = {}
