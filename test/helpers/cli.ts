/** Runs the real `optimalcloud` CLI and server as child processes (through tsx, no build), as a user would. */
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { request } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import pg from 'pg'
import type { Dialect } from '../../src/storage/database.js'
import { freshDatabase, PG_URL } from './databases.js'

/** The repository root: the CLI runs from there, as `npx optimalcloud` would. */
export const ROOT = fileURLToPath(new URL('../..', import.meta.url))
/**
 * How a child process runs `optimalcloud`: the build in dist/ when the test runner made it (it sets
 * OC_TEST_CLI=dist after building), else the source through tsx (a test file run on its own).
 */
export const CLI =
  process.env.OC_TEST_CLI === 'dist'
    ? ['--enable-source-maps', 'dist/cli.js']
    : ['--import', 'tsx', 'src/cli.ts']

export type Env = Record<string, string | undefined>

export interface CliResult {
  code: number | null
  stdout: string
  stderr: string
}

/** The parent's environment without any OPTIMALCLOUD_* setting, so a developer's shell cannot leak in. */
function baseEnv(extra: Env): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const [name, value] of Object.entries(process.env)) {
    if (!name.startsWith('OPTIMALCLOUD_') && name !== 'PORT') env[name] = value
  }
  for (const [name, value] of Object.entries(extra)) {
    if (value === undefined) delete env[name]
    else env[name] = value
  }
  return env
}

/**
 * Runs `optimalcloud ARGS…` to the end; stdin is closed at once unless `stdin` is given.
 *
 * @example const { code, stdout } = await runCli(['tenant', 'list', '--json'], { env: target.env })
 */
export async function runCli(
  args: string[],
  options: { env?: Env; stdin?: string; timeoutMs?: number } = {},
): Promise<CliResult> {
  await slot()
  try {
    return await spawnCli(args, options)
  } finally {
    release()
  }
}

// Each CLI process costs a third of a second of CPU from dist/ (most of a second through tsx): a few at
// a time keep two cores busy without starving the server under test.
const MAX_RUNNING = 3
let running = 0
const waiting: Array<() => void> = []

function slot(): Promise<void> {
  if (running < MAX_RUNNING) {
    running += 1
    return Promise.resolve()
  }
  return new Promise((resolve) => waiting.push(resolve))
}

function release(): void {
  const next = waiting.shift()
  if (next === undefined) running -= 1
  else next()
}

function spawnCli(
  args: string[],
  options: { env?: Env; stdin?: string; timeoutMs?: number },
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...CLI, ...args], { cwd: ROOT, env: baseEnv(options.env ?? {}) })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk
    })
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk
    })
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`optimalcloud ${args.join(' ')} timed out\nstdout: ${stdout}\nstderr: ${stderr}`))
    }, options.timeoutMs ?? 30_000)
    child.on('error', (error) => {
      clearTimeout(timer)
      reject(error)
    })
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr })
    })
    child.stdin.on('error', () => {}) // the CLI may exit before reading stdin
    child.stdin.end(options.stdin ?? '')
  })
}

/** Runs a command that must succeed with `--json` and returns its one JSON value (stdout holds nothing else). */
export async function cliJson(args: string[], options: { env?: Env; stdin?: string } = {}): Promise<unknown> {
  const result = await runCli([...args, '--json'], options)
  if (result.code !== 0) {
    throw new Error(
      `optimalcloud ${args.join(' ')} exited ${result.code}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`,
    )
  }
  return JSON.parse(result.stdout)
}

/** An empty database for the CLI and server: a new SQLite file (not yet created) or a new PostgreSQL schema. */
export interface E2eDatabase {
  dialect: Dialect
  /** OPTIMALCLOUD_* variables that point a child process at this database. */
  env: Env
  dispose(): Promise<void>
}

export const E2E_SECRET_KEY = 'e2e-secret-key-not-for-production'

/**
 * A fresh database: for SQLite a path in a new temp dir (the CLI creates the file); for PostgreSQL
 * a fresh, migrated schema whose test connection is already closed.
 */
export async function emptyDatabase(dialect: Dialect): Promise<E2eDatabase> {
  if (dialect === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'oc-e2e-'))
    return {
      dialect,
      env: {
        OPTIMALCLOUD_DATABASE_URL: `sqlite:${join(dir, 'optimalcloud.db')}`,
        OPTIMALCLOUD_SECRET_KEY: E2E_SECRET_KEY,
      },
      async dispose() {
        rmSync(dir, { recursive: true, force: true })
      },
    }
  }
  const fresh = await freshDatabase('postgres')
  await fresh.database.close()
  const schema = fresh.pgSchema ?? ''
  return {
    dialect,
    env: {
      OPTIMALCLOUD_DATABASE_URL: fresh.url,
      OPTIMALCLOUD_PG_SCHEMA: schema,
      OPTIMALCLOUD_SECRET_KEY: E2E_SECRET_KEY,
    },
    async dispose() {
      const client = new pg.Client({ connectionString: PG_URL })
      await client.connect()
      await client.query(`drop schema if exists ${schema} cascade`)
      await client.end()
    },
  }
}

export interface Exit {
  code: number | null
  signal: NodeJS.Signals | null
}

// A failed test must not leave a server behind: whatever still runs when the test process ends is killed.
const live = new Set<ChildProcess>()
process.on('exit', () => {
  for (const child of live) child.kill('SIGKILL')
})

/** A server process as soon as it is spawned, before it listens. */
export interface LaunchedServer {
  child: ChildProcess
  /** Resolves when the process has exited. */
  exited: Promise<Exit>
  /** What the process wrote so far. */
  output(): { stdout: string; stderr: string }
  /** Resolves once the stream (stdout: JSON logs; stderr: the first-start banner) contains `text`. */
  waitFor(stream: 'stdout' | 'stderr', text: string, timeoutMs?: number): Promise<void>
  /** Sends `signal` (SIGTERM by default) and waits for the exit. */
  stop(signal?: NodeJS.Signals): Promise<Exit>
}

export interface RunningServer extends LaunchedServer {
  url: string
  port: number
}

/**
 * Spawns `optimalcloud serve --port 0 --host 127.0.0.1 ARGS…` and returns at once, for tests of what
 * happens while it starts; `startServer` waits until it listens.
 *
 * @example const server = launchServer({ env: db.env, args: ['--workers', '2'] }); server.child.kill('SIGTERM')
 */
export function launchServer(options: { env?: Env; args?: string[] } = {}): LaunchedServer {
  const child = spawn(
    process.execPath,
    [...CLI, 'serve', '--port', '0', '--host', '127.0.0.1', ...(options.args ?? [])],
    {
      cwd: ROOT,
      env: baseEnv({ OPTIMALCLOUD_LOG_LEVEL: 'info', ...options.env }),
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  )
  let stdout = ''
  let stderr = ''
  const watchers = new Set<() => void>()
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk
    for (const watcher of watchers) watcher()
  })
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk
    for (const watcher of watchers) watcher()
  })
  live.add(child)
  const exited = new Promise<Exit>((resolve) => {
    child.on('exit', (code, signal) => {
      live.delete(child)
      resolve({ code, signal })
    })
  })
  let done = false
  void exited.then(() => {
    done = true
    for (const watcher of watchers) watcher()
  })

  const waitFor = (stream: 'stdout' | 'stderr', text: string, timeoutMs = 20_000) =>
    new Promise<void>((resolve, reject) => {
      const check = () => {
        if ((stream === 'stdout' ? stdout : stderr).includes(text)) finish()
        else if (done)
          finish(new Error(`server exited before logging "${text}"\nstdout: ${stdout}\nstderr: ${stderr}`))
      }
      const timer = setTimeout(
        () =>
          finish(
            new Error(
              `server did not log "${text}" within ${timeoutMs} ms\nstdout: ${stdout}\nstderr: ${stderr}`,
            ),
          ),
        timeoutMs,
      )
      const finish = (error?: Error) => {
        clearTimeout(timer)
        watchers.delete(check)
        if (error === undefined) resolve()
        else reject(error)
      }
      watchers.add(check)
      check()
    })

  return {
    child,
    exited,
    output: () => ({ stdout, stderr }),
    waitFor,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (!done) child.kill(signal)
      return exited
    },
  }
}

/**
 * Starts `optimalcloud serve --port 0 --host 127.0.0.1 ARGS…` and resolves once it listens; the port is
 * read from its "Server listening at" log line.
 *
 * @example const server = await startServer({ env: db.env }); …; await server.stop()
 */
export function startServer(
  options: { env?: Env; args?: string[]; timeoutMs?: number } = {},
): Promise<RunningServer> {
  const server = launchServer(options)
  return server.waitFor('stdout', 'Server listening at', options.timeoutMs ?? 30_000).then(
    () => {
      const { stdout } = server.output()
      const match = /Server listening at (http:\/\/127\.0\.0\.1:(\d+))/.exec(stdout)
      if (match === null || match[1] === undefined) throw new Error(`no listening address in ${stdout}`)
      return { ...server, url: match[1], port: Number(match[2]) }
    },
    (error: unknown) => {
      server.child.kill('SIGKILL')
      throw error
    },
  )
}

export interface HttpAnswer {
  status: number
  headers: Record<string, string | string[] | undefined>
  body: unknown
  text: string
}

/**
 * One HTTP request on a connection of its own to 127.0.0.1:`port`, with any Host header (fetch cannot
 * set Host). It asks for keep-alive so that a `Connection: close` in the answer means the server chose it.
 *
 * @example await httpRequest(server.port, { path: '/healthz', host: 'acme.localhost' })
 */
export function httpRequest(
  port: number,
  options: {
    method?: string
    path: string
    host: string
    headers?: Record<string, string>
    body?: unknown
    /** Called once the TCP connection is established: from then on the request has reached the server. */
    onConnect?: () => void
  },
): Promise<HttpAnswer> {
  const payload = options.body === undefined ? undefined : JSON.stringify(options.body)
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method: options.method ?? (payload === undefined ? 'GET' : 'POST'),
        path: options.path,
        agent: false,
        headers: {
          host: options.host,
          connection: 'keep-alive',
          ...(payload === undefined
            ? {}
            : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }),
          ...options.headers,
        },
      },
      (res) => {
        let text = ''
        res.setEncoding('utf8')
        res.on('data', (chunk: string) => {
          text += chunk
        })
        res.on('error', reject)
        res.on('end', () => {
          let body: unknown
          try {
            body = JSON.parse(text)
          } catch {
            body = undefined
          }
          req.destroy() // we asked for keep-alive; this client is done with the connection
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body, text })
        })
      },
    )
    req.on('error', reject)
    const onConnect = options.onConnect
    if (onConnect !== undefined) req.on('socket', (socket) => socket.once('connect', onConnect))
    req.end(payload)
  })
}

export const TICKETS = '/v5.0/mgmt/api/v1.0/webhooks/helpdesk'

/**
 * The Management API key a first start printed for tenant `demo` (waits for the banner).
 *
 * @example const key = await demoKey(await startServer({ env: db.env }))
 */
export async function demoKey(server: RunningServer): Promise<string> {
  await server.waitFor('stderr', 'Then read it back')
  const key = /Management API key : (oc_[A-Za-z0-9]{43})\n/.exec(server.output().stderr)?.[1]
  if (key === undefined) throw new Error(`no key in the first-start banner:\n${server.output().stderr}`)
  return key
}

/** The demo tenant's support requester (see src/bootstrap.ts). */
export const DEMO_REQUESTER = 'john.doe@optimalidm.com'
