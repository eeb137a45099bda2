/** Validation of Management API requests against their TypeBox schemas, with messages an administrator can act on. */
import type { TSchema } from '@sinclair/typebox'
import { TypeCompiler } from '@sinclair/typebox/compiler'
import { type ValueError, ValueErrorType } from '@sinclair/typebox/errors'
import type { FastifySchemaCompiler, FastifySchemaValidationError } from 'fastify'
import { errorCatalog } from '../errors.js'

type HttpPart = 'body' | 'querystring' | 'params' | 'headers'

/**
 * Fastify's validator compiler for the management routes (only theirs: the webhooks validate by hand).
 * TypeBox checks the value; query and path strings are converted first (`"10"` → 10, `"true"` → true).
 * The first failure becomes the whole message, e.g. `name is a required field`, `limit must be an
 * integer`, `expiresIn is not a known field`: the error handler answers it as `400 {"error":…}`.
 */
export const validatorCompiler: FastifySchemaCompiler<TSchema> = ({ schema, httpPart }) => {
  const check = TypeCompiler.Compile(schema)
  const part = (httpPart ?? 'body') as HttpPart
  return (input: unknown) => {
    const value = part === 'body' ? input : convertStrings(schema, input)
    if (check.Check(value)) return { value }
    const first = check.Errors(value).First()
    const error: FastifySchemaValidationError = {
      keyword: first === undefined ? 'type' : ValueErrorType[first.type],
      instancePath: first?.path ?? '',
      schemaPath: '',
      params: {},
      message: first === undefined ? errorCatalog.bad_request.message : describe(first, part),
    }
    return { error: [error] }
  }
}

/** The message is written whole by the compiler above; Fastify's default would prefix `body/`. */
export function schemaErrorFormatter(errors: FastifySchemaValidationError[]): Error {
  return new Error(errors[0]?.message ?? errorCatalog.bad_request.message)
}

/**
 * Query strings and path parameters arrive as strings: turn the ones whose schema says integer or
 * boolean into those, strictly (`10`, `true`, `false`; not `1e3` or `yes`, which then fail clearly).
 */
function convertStrings(schema: TSchema, input: unknown): unknown {
  const properties = (schema as { properties?: Record<string, TSchema> }).properties
  if (typeof input !== 'object' || input === null || properties === undefined) return input
  const out: Record<string, unknown> = { ...(input as Record<string, unknown>) }
  for (const [name, property] of Object.entries(properties)) {
    const raw = out[name]
    if (typeof raw !== 'string') continue
    if (property.type === 'integer' && /^-?\d{1,15}$/.test(raw)) out[name] = Number(raw)
    else if (property.type === 'boolean' && (raw === 'true' || raw === 'false')) out[name] = raw === 'true'
  }
  return out
}

/** `settings/url` → `settings.url`: the field as the caller wrote it in JSON. */
function fieldName(path: string): string {
  return path
    .split('/')
    .slice(1)
    .map((segment) => segment.replaceAll('~1', '/').replaceAll('~0', '~'))
    .join('.')
}

const TYPE_NAMES: Partial<Record<ValueErrorType, string>> = {
  [ValueErrorType.String]: 'a string',
  [ValueErrorType.Boolean]: 'a boolean (true or false)',
  [ValueErrorType.Integer]: 'an integer',
  [ValueErrorType.Number]: 'a number',
  [ValueErrorType.Object]: 'an object',
  [ValueErrorType.Array]: 'an array',
  [ValueErrorType.Null]: 'null',
}

function describe(error: ValueError, part: HttpPart): string {
  const field = fieldName(error.path)
  const schema = error.schema as Record<string, unknown>
  if (field === '') {
    // The whole body (or query) has the wrong shape: for a body, the contract's own message.
    return part === 'body' ? errorCatalog.body_not_object.message : `${part} must be an object`
  }
  const where = part === 'querystring' ? 'query parameter ' : part === 'params' ? 'path parameter ' : ''
  switch (error.type) {
    case ValueErrorType.ObjectRequiredProperty:
      return `${where}${field} is a required field`
    case ValueErrorType.ObjectAdditionalProperties:
      return part === 'body' ? `${field} is not a known field` : `${field} is not a known ${where.trim()}`
    case ValueErrorType.IntegerMinimum:
    case ValueErrorType.NumberMinimum:
      return `${where}${field} must be at least ${String(schema.minimum)}`
    case ValueErrorType.IntegerMaximum:
    case ValueErrorType.NumberMaximum:
      return `${where}${field} must be at most ${String(schema.maximum)}`
    case ValueErrorType.StringMinLength:
      return `${where}${field} must be at least ${String(schema.minLength)} characters`
    case ValueErrorType.StringMaxLength:
      return `${where}${field} must be at most ${String(schema.maxLength)} characters`
    case ValueErrorType.StringPattern:
      return `${where}${field} is not valid`
    case ValueErrorType.Literal:
    case ValueErrorType.Union:
      return `${where}${field} must be ${alternatives(schema)}`
    default: {
      const type = TYPE_NAMES[error.type]
      return type === undefined ? `${where}${field} is not valid` : `${where}${field} must be ${type}`
    }
  }
}

/** `one of: builtin, zendesk` for a union of literals; `a string or null` for a union of types. */
function alternatives(schema: Record<string, unknown>): string {
  const members = Array.isArray(schema.anyOf) ? (schema.anyOf as Array<Record<string, unknown>>) : [schema]
  if (members.every((member) => 'const' in member)) {
    return `one of: ${members.map((member) => String(member.const)).join(', ')}`
  }
  return members.map((member) => JSON_TYPE_NAMES[String(member.type)] ?? 'a value').join(' or ')
}

const JSON_TYPE_NAMES: Record<string, string> = {
  string: 'a string',
  boolean: 'a boolean',
  integer: 'an integer',
  number: 'a number',
  object: 'an object',
  array: 'an array',
  null: 'null',
}
