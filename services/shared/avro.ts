import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import avro from 'avsc'
import type { AlertDelivery, AuthEvent, Detection, DetectionFeedback, DlqRecord } from '../../schemas/model.js'
import { packageRoot } from './paths.js'

export interface Codec<T> {
  encode(value: T): Buffer
  decode(buffer: Buffer): T
  /** Says what is wrong with a value, or undefined when it would encode. */
  check(value: T): string | undefined
}

const readSchema = (path: string) => avro.Type.forSchema(JSON.parse(readFileSync(join(packageRoot, 'schemas', path), 'utf8')))

/**
 * `history`: earlier versions of the schema (schemas/history/), newest first. A record that does not decode with
 * the current schema is read as written by each earlier one in turn, resolved to the current shape (a field added
 * since gets its default), so records produced before an upgrade stay readable after it. Schemas therefore only
 * ever gain fields with defaults, at the end, and the replaced version is kept in schemas/history/.
 */
function loadCodec<T>(file: string, history: readonly string[] = []): Codec<T> {
  const type = readSchema(file)
  const resolvers = history.map((old) => type.createResolver(readSchema(old)))
  const decode = (buffer: Buffer): T => {
    try {
      return type.fromBuffer(buffer) as T
    } catch (error) {
      for (const resolver of resolvers) {
        try {
          return type.fromBuffer(buffer, resolver) as T
        } catch {
          // not written with this one either
        }
      }
      throw error
    }
  }
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
    decode,
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
  feedback: Codec<DetectionFeedback>
}

/** Built once per process (schema parsing is not for the hot path). */
export function createCodecs(): Codecs {
  return {
    authEvent: loadCodec<AuthEvent>('auth-event.avsc'),
    // v1: before `route` (session 2).
    detection: loadCodec<Detection>('detection.avsc', ['history/detection.v1.avsc']),
    dlq: loadCodec<DlqRecord>('dlq-record.avsc'),
    alertDelivery: loadCodec<AlertDelivery>('alert-delivery.avsc'),
    feedback: loadCodec<DetectionFeedback>('detection-feedback.avsc'),
  }
}
