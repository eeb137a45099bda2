/** A whole service in a child process (for tests that kill it): serves OC_TEST_DB_URL on 127.0.0.1, prints its port. */
import { buildApp } from '../../src/app.js'
import { loadConfig } from '../../src/config.js'
import { createServices } from '../../src/services.js'
import { openDatabase } from '../../src/storage/database.js'
import { TEST_SECRET_KEY } from './test-app.js'

const url = process.env.OC_TEST_DB_URL
if (url === undefined) throw new Error('OC_TEST_DB_URL is not set')
const pgSchema = process.env.OC_TEST_PG_SCHEMA || undefined
const config = loadConfig({}, { databaseUrl: url, secretKey: () => TEST_SECRET_KEY, pgSchema })
const database = openDatabase(url, pgSchema === undefined ? {} : { pgSchema })
const app = await buildApp(createServices(config, database), { logger: false })
await app.listen({ host: '127.0.0.1', port: 0 })
const address = app.server.address()
if (address === null || typeof address === 'string') throw new Error('no TCP address')
process.stdout.write(`${JSON.stringify({ port: address.port })}\n`)
