/** The operator setting that lets connectors call private addresses is warned about when the server starts, and only then. */
import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { type E2eDatabase, emptyDatabase, type RunningServer, startServer } from '../helpers/cli.js'

const WARNING = 'OPTIMALCLOUD_ALLOW_PRIVATE_CONNECTORS=true'

/** The JSON log lines of a server's stdout that mention the setting. */
function warningLines(server: RunningServer): Array<{ level?: number; msg?: string }> {
  return server
    .output()
    .stdout.split('\n')
    .filter((line) => line.includes(WARNING))
    .map((line) => JSON.parse(line) as { level?: number; msg?: string })
}

// Starting a server touches the database only to migrate it: SQLite is enough here.
describe('OPTIMALCLOUD_ALLOW_PRIVATE_CONNECTORS at start', () => {
  const databases: E2eDatabase[] = []
  after(async () => {
    for (const db of databases) await db.dispose()
  })

  it('logs a warning line when the server starts with it', async () => {
    const db = await emptyDatabase('sqlite')
    databases.push(db)
    const server = await startServer({ env: { ...db.env, OPTIMALCLOUD_ALLOW_PRIVATE_CONNECTORS: 'true' } })
    try {
      await server.waitFor('stdout', WARNING)
      const [line] = warningLines(server)
      assert.equal(line?.level, 40, 'pino level warn')
      assert.match(line?.msg ?? '', /never use this in production/)
    } finally {
      await server.stop()
    }
  })

  it('says nothing of it when the setting is off (the default)', async () => {
    const db = await emptyDatabase('sqlite')
    databases.push(db)
    const server = await startServer({ env: { ...db.env, OPTIMALCLOUD_ALLOW_PRIVATE_CONNECTORS: 'false' } })
    try {
      await server.waitFor('stdout', 'Server listening')
      assert.deepEqual(warningLines(server), [])
    } finally {
      await server.stop()
    }
  })
})
