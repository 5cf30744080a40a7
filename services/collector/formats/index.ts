import { createCanonicalFormat } from './canonical.js'
import { createGatewayFormats } from './gateway.js'
import { createIdpFormats } from './idp.js'
import type { LogFormat } from './types.js'

export type FormatRegistry = ReadonlyMap<string, LogFormat>

/** Every format the collector understands, by the name users pass to --format or the sw-format header. */
export function createFormatRegistry(): FormatRegistry {
  const formats: LogFormat[] = [createCanonicalFormat(), ...createIdpFormats(), ...createGatewayFormats()]
  return new Map(formats.map((f) => [f.name, f]))
}
