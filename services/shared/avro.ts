import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import avro from 'avsc'
import type { AlertDelivery, AuthEvent, Detection, DlqRecord } from '../../schemas/model.js'
import { packageRoot } from './paths.js'

export interface Codec<T> {
  encode(value: T): Buffer
  decode(buffer: Buffer): T
  /** Says what is wrong with a value, or undefined when it would encode. */
  check(value: T): string | undefined
}

function loadCodec<T>(file: string): Codec<T> {
  const schema = JSON.parse(readFileSync(join(packageRoot, 'schemas', file), 'utf8'))
  const type = avro.Type.forSchema(schema)
  // Encoded into one scratch buffer kept per codec, then copied out at its exact size into a pooled
  // allocation: avsc's toBuffer zero-fills a fresh, unpooled Buffer per value (about 15% of an encode).
  let scratch = Buffer.allocUnsafe(4096)
  return {
    encode(value) {
      let end = type.encode(value, scratch, 0)
      while (end < 0) {
        // A negative end is how many bytes were missing.
        scratch = Buffer.allocUnsafe(Math.max(scratch.length * 2, scratch.length - end))
        end = type.encode(value, scratch, 0)
      }
      const out = Buffer.allocUnsafe(end)
      scratch.copy(out, 0, 0, end)
      return out
    },
    decode: (buffer) => type.fromBuffer(buffer) as T,
    check(value) {
      const problems: string[] = []
      type.isValid(value, { errorHook: (path) => problems.push(path.join('.') || '(record)') })
      return problems.length ? `invalid fields: ${problems.slice(0, 5).join(', ')}` : undefined
    },
  }
}

export interface Codecs {
  authEvent: Codec<AuthEvent>
  detection: Codec<Detection>
  dlq: Codec<DlqRecord>
  alertDelivery: Codec<AlertDelivery>
}

/** Built once per process (schema parsing is not for the hot path). */
export function createCodecs(): Codecs {
  return {
    authEvent: loadCodec<AuthEvent>('auth-event.avsc'),
    detection: loadCodec<Detection>('detection.avsc'),
    dlq: loadCodec<DlqRecord>('dlq-record.avsc'),
    alertDelivery: loadCodec<AlertDelivery>('alert-delivery.avsc'),
  }
}
