/** Hot-path queries compiled to SQL once per database, then run with new values: no query building per call. */
import type { Compilable, CompiledQuery, Kysely } from 'kysely'
import { directConnection, runDirect } from './direct-sqlite.js'
import type { Schema } from './schema.js'

type Db = Kysely<Schema>

/** Where each compiled parameter comes from: a named value of the call, or a constant of the query. */
type Slot = { name: string } | { value: unknown }

interface Template {
  compiled: CompiledQuery
  slots: Slot[]
}

/**
 * Stands for a parameter while the query is compiled; never reaches the database. The spaces and the
 * mixed case make `.trim()`, `.toLowerCase()` and the like change it, so such a mistake is caught.
 */
const MARKER_TAG = '\u0000Prepared:'
const marker = (name: string) => ` ${MARKER_TAG}${name}\u0000 `

/**
 * Wraps a Kysely query whose shape never changes. Building and compiling a Kysely query costs more
 * than running it on SQLite, so the query is built once per database with markers in place of the
 * values, and each call only fills the values in. Rules for `build`: pass every value taken from
 * `params` to Kysely as it is (no `.trim()`, no template string, no array for `in`: do that before
 * the call); do not branch on `params` (the first call's shape is kept). A value changed or written into the
 * SQL text throws on first use; a branch is not caught. An `undefined` value is bound as null (the
 * column stays in the SQL, where Kysely would have left it out).
 *
 * @example
 * const byEmail = preparedQuery((db, p: { tenantId: string; emailKey: string }) =>
 *   db.selectFrom('requesters').select('email').where('tenant_id', '=', p.tenantId).where('email_key', '=', p.emailKey))
 * const rows = await byEmail(database.db, { tenantId, emailKey: 'john@acme.com' })
 */
export function preparedQuery<P extends object, R>(
  build: (db: Db, params: P) => Compilable<R>,
): (db: Db, params: P) => Promise<R[]> {
  // One template per dialect adapter: the read and write connections, SQLite and PostgreSQL, each get theirs.
  const templates = new WeakMap<object, Template>()
  return async function run(db, params) {
    const executor = db.getExecutor()
    // A plugin may rewrite every query it sees: build such queries each time, as Kysely would.
    if (executor.plugins.length > 0) return (await db.executeQuery(build(db, params))).rows
    let template = templates.get(executor.adapter)
    if (template === undefined) {
      template = compileTemplate(db, build, params)
      templates.set(executor.adapter, template)
    }
    const values = params as Record<string, unknown>
    const parameters = template.slots.map((slot) =>
      'name' in slot ? (values[slot.name] ?? null) : slot.value,
    )
    // Inside a SQLite group-commit batch: straight to its connection (direct-sqlite.ts).
    const raw = directConnection(db)
    if (raw !== undefined) return runDirect<R>(raw, template.compiled.sql, parameters)
    const { rows } = await executor.executeQuery<R>({ ...template.compiled, parameters })
    return rows
  }
}

function compileTemplate<P extends object, R>(
  db: Db,
  build: (db: Db, params: P) => Compilable<R>,
  params: P,
): Template {
  // The same keys as a real call (so `values(params)` sees every column), each holding its marker.
  const names = new Map(Object.keys(params).map((name) => [marker(name), name]))
  const markers = Object.fromEntries([...names].map(([text, name]) => [name, text])) as P
  const compiled = build(db, markers).compile()
  const tag = MARKER_TAG.toLowerCase()
  if (compiled.sql.toLowerCase().includes(tag))
    throw new Error('preparedQuery: a parameter was written into the SQL text')
  const slots = compiled.parameters.map((value): Slot => {
    if (typeof value !== 'string' || !value.toLowerCase().includes(tag)) return { value }
    const name = names.get(value)
    if (name === undefined)
      throw new Error('preparedQuery: a parameter was changed before it reached the query')
    return { name }
  })
  return { compiled, slots }
}
