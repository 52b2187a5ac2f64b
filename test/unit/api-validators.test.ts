import { strict as assert } from 'node:assert'
import AjvCompiler from '@fastify/ajv-compiler'
import fc from 'fast-check'
import { buildApi } from '../../node/api/server.js'
import { standIn } from '../../node/api/precompile.js'
import { PRECOMPILED } from '../../node/api/precompiled-validators.js'
import { precompiledValidators, validatorKey, validatorSources, type ValidatedRoute } from '../../node/api/validators.js'

type Validate = (data: unknown) => boolean

/** Every validated route part of the full API, with its schema, as fastify hands them over. */
async function routeSchemas (): Promise<ValidatedRoute[]> {
  const seen: ValidatedRoute[] = []
  const record = ((_ext: unknown, _opts: unknown) => (route: ValidatedRoute) => { seen.push(route); return () => true }) as unknown as AjvCompiler.BuildCompilerFromPool
  const app = buildApi(standIn(), undefined, [], record)
  await app.ready()
  await app.close()
  return seen
}

describe('HTTP API validators compiled at build time', () => {
  it('cover every route of the API, so a start compiles none', async () => {
    const before = { precompiled: validatorSources.precompiled, compiled: validatorSources.compiled.length }
    const app = buildApi(standIn())
    await app.ready()
    await app.close()
    const routes = await routeSchemas()
    assert.ok(routes.length > 20, `the API validates ${routes.length} route parts`)
    assert.deepEqual(validatorSources.compiled.slice(before.compiled), [], 'no route compiled its validator at startup (run npm run build)')
    assert.equal(validatorSources.precompiled - before.precompiled, routes.length)
  })

  it('accept and refuse exactly what validators compiled at startup do', async () => {
    const routes = await routeSchemas()
    const compile = AjvCompiler()({}, { customOptions: { removeAdditional: false, coerceTypes: false, allErrors: false, validateSchema: false } }) as unknown as (r: ValidatedRoute) => Validate
    // Inputs near the schemas' shapes: objects of the property names they use, with values of every kind.
    const names = [...new Set(routes.flatMap(r => Object.keys((r.schema as { properties?: object }).properties ?? {})))]
    const value = fc.oneof(fc.string(), fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.array(fc.string(), { maxLength: 3 }), fc.dictionary(fc.string(), fc.integer(), { maxKeys: 2 }))
    const input = fc.oneof(fc.anything(), fc.dictionary(fc.constantFrom(...names), value, { maxKeys: 4 }))
    for (const route of routes) {
      const built = PRECOMPILED[validatorKey(route)]!.load() as Validate
      const runtime = compile(route)
      fc.assert(fc.property(input, data => built(data) === runtime(data)), { numRuns: 200 })
    }
  })

  it('compile a route the build did not see (a library user\'s own) at startup', async () => {
    const before = validatorSources.compiled.length
    const app = buildApi(standIn(), undefined, [(a) => {
      a.post('/v1/mine', { schema: { body: { type: 'object', required: ['n'], properties: { n: { type: 'integer' } } } } }, async () => ({ ok: true }))
    }], precompiledValidators())
    const bad = await app.inject({ method: 'POST', url: '/v1/mine', payload: { n: 'x' } })
    const good = await app.inject({ method: 'POST', url: '/v1/mine', payload: { n: 1 } })
    await app.close()
    assert.deepEqual(validatorSources.compiled.slice(before), ['POST /v1/mine body'])
    assert.equal(bad.statusCode, 400)
    assert.equal(bad.json().error, 'invalid_body')
    assert.equal(good.statusCode, 200)
  })
})
