import { WebhookPayloadError } from './types.js'

// Typed reads from a decoded JSON payload: the host modules say what must be there, and a payload
// without it is a 400 that names the field.

export type Json = Record<string, unknown>

export function object (value: unknown, at: string): Json {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new WebhookPayloadError(`${at} must be an object`)
  return value as Json
}

export function array (value: unknown, at: string): unknown[] {
  if (!Array.isArray(value)) throw new WebhookPayloadError(`${at} must be an array`)
  return value
}

export function optionalObject (value: unknown): Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? value as Json : {}
}

export function string (value: unknown, at: string): string {
  if (typeof value !== 'string' || value === '') throw new WebhookPayloadError(`${at} must be a non-empty string`)
  return value
}

export function optionalString (value: unknown): string | null {
  return typeof value === 'string' && value !== '' ? value : null
}

export function sha (value: unknown, at: string): string {
  const text = string(value, at)
  if (!/^[0-9a-f]{40}$/i.test(text)) throw new WebhookPayloadError(`${at} must be a 40-hex commit SHA`)
  return text.toLowerCase()
}

export function strings (...values: unknown[]): string[] {
  return values.filter((value): value is string => typeof value === 'string' && value !== '')
}
