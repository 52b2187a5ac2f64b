/**
 * Request validation with validators compiled at build time. Compiling every route's JSON
 * schema with Ajv took ~140 ms of CPU at each start (profiled), in one block, right when a
 * restarted member rejoins its cluster. A route whose schema is not in the table, or differs
 * from the one the table was built from (a library user's extra routes; a source change without
 * a rebuild), is compiled at startup as before.
 */
import { createHash } from 'node:crypto'
import AjvCompiler from '@fastify/ajv-compiler'
import { PRECOMPILED } from './precompiled-validators.js'

export interface ValidatedRoute { schema?: unknown, method: string, url: string, httpPart: string }
type BuildValidator = AjvCompiler.BuildCompilerFromPool

export function validatorKey (r: ValidatedRoute): string {
  return `${r.method} ${r.url} ${r.httpPart}`
}

export function schemaHash (schema: unknown): string {
  return createHash('sha256').update(JSON.stringify(schema) ?? '').digest('base64url')
}

/** Routes built since start, by where their validator came from (tests check none is compiled). */
export const validatorSources = { precompiled: 0, compiled: [] as string[] }

/** fastify's `schemaController.compilersFactory.buildValidator`. */
export function precompiledValidators (): BuildValidator {
  const fallback = AjvCompiler()
  return (externalSchemas, options) => {
    let compile: ReturnType<BuildValidator> | undefined
    const compiler = (route: ValidatedRoute): unknown => {
      const key = validatorKey(route)
      const entry = PRECOMPILED[key]
      if (entry !== undefined && entry.hash === schemaHash(route.schema)) {
        validatorSources.precompiled++
        return entry.load()
      }
      validatorSources.compiled.push(key)
      compile ??= fallback(externalSchemas, options)
      return (compile as unknown as (r: ValidatedRoute) => unknown)(route)
    }
    return compiler as unknown as ReturnType<BuildValidator>
  }
}
