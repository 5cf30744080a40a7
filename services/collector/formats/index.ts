import { createCanonicalFormat } from './canonical.js'
import type { LogFormat } from './types.js'

export type FormatRegistry = ReadonlyMap<string, LogFormat>

export function createFormatRegistry(): FormatRegistry {
  const formats: LogFormat[] = [createCanonicalFormat()]
  return new Map(formats.map((f) => [f.name, f]))
}
