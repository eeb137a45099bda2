/** What an HR vendor module declares: its settings, how its sender authenticates, and its adapters. */
import type { OutboundPolicy } from '../connectors/http/outbound-policy.js'
import type { EmployeeRef, HrCommand } from '../directory/provisioning.js'
import type { User } from '../directory/users.js'
import type { JsonObject } from '../webhooks/fields.js'

/** The three URLs every destination has (add, modify, terminate). */
export const HR_OPERATIONS = ['adduser', 'modifyuser', 'deleteuser'] as const
export type HrOperation = (typeof HR_OPERATIONS)[number]

/** A URL of a destination: the three operations, and `events` for senders that post every event to one URL. */
export const HR_ENDPOINTS = [...HR_OPERATIONS, 'events'] as const
export type HrEndpoint = (typeof HR_ENDPOINTS)[number]

/**
 * One setting of a destination, as the management API, the console, the CLI and the OpenAPI
 * document show and check it.
 */
export interface SettingSpec {
  key: string
  /** One line for forms, help texts and the OpenAPI document. */
  description: string
  /** Sealed at rest (AES-256-GCM), shown as `********`, typed into password boxes, readable from stdin by the CLI. */
  secret?: true
  /** An outbound URL: checked against the connector URL policy when it is saved. */
  url?: true
  /** The values allowed, when the setting is a choice. */
  choices?: readonly string[]
  /** A whole number within these bounds (written in decimal digits). */
  integer?: { min: number; max: number }
  /** What applies when the setting is not set (shown as a placeholder). */
  default?: string
}

/**
 * How an HR system proves who it is on a destination's URLs. Every vendor accepts the `Authorization`
 * header (an API key with the Management API option, or a service account); a signing vendor
 * (BambooHR) may instead sign the raw body with a secret setting of the destination.
 */
export type SenderAuthentication =
  | { kind: 'authorization' }
  | {
      kind: 'signature'
      /** The secret setting that keys the signature. */
      secretSetting: string
      /**
       * True when the request's signature headers prove that `rawBody` was sent by the holder of `secret`
       * within the allowed clock window. Runs on the exact bytes received, before any parsing.
       */
      verify(
        rawBody: Buffer,
        headers: Readonly<Record<string, string | string[] | undefined>>,
        secret: string,
        now: Date,
      ): boolean
      /** True when the request carries this vendor's signature headers (then `verify` decides). */
      isSigned(headers: Readonly<Record<string, string | string[] | undefined>>): boolean
    }

export type { HrCommand } from '../directory/provisioning.js'

/** What an adapter may use besides the body: the destination's settings and the directory's lookup. */
export interface AdapterContext {
  /** The destination's settings, secrets still sealed (see `secret`). */
  settings: Readonly<Record<string, string>>
  /** A secret setting unsealed, or null when it is not set. Throws when it cannot be unsealed (a changed key). */
  secret(key: string): string | null
  /** The user linked to the employee; throws `User not found in the OptimalCloud` for one the destination does not know. */
  ensureKnown(ref: EmployeeRef): Promise<User>
  /**
   * Where the vendor's API client may send requests (the outbound URL policy: https to public hosts
   * unless the operator allows private ones); the client passes it on to the connector plumbing.
   */
  outbound: OutboundPolicy
}

/**
 * An HR system the service knows by name. One module per vendor declares it, and every surface
 * (destinations, webhooks, management API schemas and so the OpenAPI document, console forms, CLI
 * help) reads it from the registry in ./index.ts.
 *
 * @example
 * export const acmeHr: HrVendor = {
 *   type: 'acme-hr', label: 'Acme HR', description: 'Acme HR webhooks',
 *   settings: [], authentication: { kind: 'authorization' }, endpoints: HR_OPERATIONS,
 *   adapt: (endpoint, body) => genericCommand(endpoint, body),
 * }
 */
export interface HrVendor {
  /** The destination type, as stored and as the API and CLI take it (`paylocity`). */
  type: string
  /** The name administrators read (`Paylocity`). */
  label: string
  /** One sentence for the console and the CLI help. */
  description: string
  /** The settings of this vendor, beside the ones every destination has (`login_id`, ...). */
  settings: readonly SettingSpec[]
  /** Settings that are set together or not at all (e.g. an API client id and its secret). */
  together?: ReadonlyArray<readonly string[]>
  authentication: SenderAuthentication
  /** Reads form posts (`application/x-www-form-urlencoded`, with `a[b][0]` nesting) as well as JSON. */
  forms?: true
  /** The URLs shown on the destination's User Provisioning tab; all four URLs are answered either way. */
  endpoints: readonly HrEndpoint[]
  /**
   * Turns a body received on `endpoint` into a domain command (or several, applied together, for a
   * vendor that reports several employees in one call). May call the vendor's API (it runs outside any
   * database transaction); throws AppError with the contract's messages.
   */
  adapt(
    endpoint: HrEndpoint,
    body: JsonObject,
    context: AdapterContext,
  ): HrCommand | HrCommand[] | Promise<HrCommand | HrCommand[]>
}
