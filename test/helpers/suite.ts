/**
 * One call declares a suite and runs it on every database: SQLite always, PostgreSQL when it answers
 * (required under CI=true). Each run gets a fresh database, a whole service and seeded tenants, and
 * closes them after its tests.
 *
 * @example
 * onEachDatabase('Generic createticket webhook', (s) => {
 *   it('creates a ticket', async () => {
 *     const res = await post(s.app, PATH, { host: s.acme.host, auth: s.acme.key, body })
 *     assert.equal(res.statusCode, 201)
 *   })
 * })
 */
import { after, before, describe } from 'node:test'
import type { FastifyInstance } from 'fastify'
import { buildApp } from '../../src/app.js'
import { type Config, loadConfig } from '../../src/config.js'
import { createServices, type Services } from '../../src/services.js'
import { type Db, type Dialect, openDatabase } from '../../src/storage/database.js'
import { DIALECTS, postgresAvailable } from './databases.js'
import {
  buildLoggedApp,
  type SeededTenant,
  seedTenant,
  startTestApp,
  TEST_SECRET_KEY,
  type TestApp,
} from './test-app.js'

const pgUp = await postgresAvailable()

export interface SuiteOptions {
  /** Config overrides for the service (e.g. a short credential re-check). */
  config?: Partial<Config>
  /** Tenants seeded before the tests (each with a Management API key, a service account, a requester); default acme and other. */
  tenants?: string[]
  /** The databases to run on; default both. */
  dialects?: Dialect[]
  /** Runs after the tenants are seeded, before the first test (make destinations, fakes, ...). */
  setup?: (suite: Suite) => Promise<unknown>
}

/** Another instance of the service over a suite's database. */
export interface Instance {
  readonly app: FastifyInstance
  readonly services: Services
}

/** What a suite's tests use; every field is ready inside `it`, `before` and `after` hooks declared in the body. */
export interface Suite {
  readonly dialect: Dialect
  readonly t: TestApp
  readonly app: FastifyInstance
  readonly services: Services
  /** The read connection of the suite's database. */
  readonly db: Db
  /** A tenant seeded by name (see SuiteOptions.tenants). */
  tenant(name: string): SeededTenant
  /** The seeded `acme` and `other` tenants. */
  readonly acme: SeededTenant
  readonly other: SeededTenant
  /**
   * Another instance of the service over the suite's database, as a second server would run: its own
   * connection and process state (caches, limits), the same rows. Its config is the suite's with
   * `overrides`; it is closed with the suite.
   */
  instance(overrides?: Partial<Config>): Promise<Instance>
  /**
   * The suite's service (the same `services`) behind an app with the real logger at its most talkative
   * (trace), written to `lines`: what a test needs to prove that no secret is ever logged. Closed with
   * the suite.
   */
  loggedApp(): Promise<{ app: FastifyInstance; lines: string[] }>
}

/**
 * Declares `title (sqlite)` and `title (postgres)`; `body` registers the tests with `it` and may add
 * its own hooks. A PostgreSQL run is skipped (not failed) when no server answers outside CI.
 */
export function onEachDatabase(title: string, body: (suite: Suite) => void): void
export function onEachDatabase(title: string, options: SuiteOptions, body: (suite: Suite) => void): void
export function onEachDatabase(
  title: string,
  optionsOrBody: SuiteOptions | ((suite: Suite) => void),
  maybeBody?: (suite: Suite) => void,
): void {
  const options = typeof optionsOrBody === 'function' ? {} : optionsOrBody
  const body = typeof optionsOrBody === 'function' ? optionsOrBody : maybeBody
  if (body === undefined) throw new Error('onEachDatabase needs a body')
  for (const dialect of options.dialects ?? DIALECTS) {
    describe(`${title} (${dialect})`, { skip: dialect === 'postgres' && !pgUp && 'no PostgreSQL' }, () => {
      const suite = new RunningSuite(dialect, options.config)
      before(async () => {
        suite.started = await startTestApp(dialect, options.config)
        for (const name of options.tenants ?? ['acme', 'other'])
          suite.seeded.set(name, await seedTenant(suite.started.services, name))
        await options.setup?.(suite)
      })
      after(async () => {
        await suite.closeExtraApps()
        await suite.started?.close()
      })
      body(suite)
    })
  }
}

class RunningSuite implements Suite {
  started: TestApp | undefined
  readonly seeded = new Map<string, SeededTenant>()
  /** Closes what instance() and loggedApp() made, before the suite's own app and database. */
  private readonly closers: Array<() => Promise<void>> = []

  constructor(
    readonly dialect: Dialect,
    private readonly config: Partial<Config> = {},
  ) {}

  get t(): TestApp {
    if (this.started === undefined)
      throw new Error('The suite is not started yet: use it inside it() or a hook')
    return this.started
  }
  get app(): FastifyInstance {
    return this.t.app
  }
  get services(): Services {
    return this.t.services
  }
  get db(): Db {
    return this.t.services.database.db
  }
  tenant(name: string): SeededTenant {
    const found = this.seeded.get(name)
    if (found === undefined) throw new Error(`No tenant ${name} was seeded in this suite`)
    return found
  }
  get acme(): SeededTenant {
    return this.tenant('acme')
  }
  get other(): SeededTenant {
    return this.tenant('other')
  }

  async instance(overrides: Partial<Config> = {}): Promise<Instance> {
    const { url, pgSchema } = this.t.testDb
    const database = openDatabase(url, pgSchema === undefined ? {} : { pgSchema })
    const config = loadConfig(
      {},
      { databaseUrl: url, secretKey: () => TEST_SECRET_KEY, ...this.config, ...overrides },
    )
    const services = createServices(config, database)
    const app = await buildApp(services, { logger: false }).catch(async (error: unknown) => {
      await database.close()
      throw error
    })
    this.closers.push(async () => {
      await app.close()
      await database.close()
    })
    await app.ready()
    return { app, services }
  }
  async loggedApp(): Promise<{ app: FastifyInstance; lines: string[] }> {
    const logged = await buildLoggedApp(this.services)
    this.closers.push(() => logged.app.close())
    return logged
  }
  async closeExtraApps(): Promise<void> {
    for (const close of this.closers.splice(0).reverse()) await close()
  }
}
