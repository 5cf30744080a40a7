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

function loadCodec<T>(file: string): Codec<T> {
  const schema = JSON.parse(readFileSync(join(packageRoot, 'schemas', file), 'utf8'))
  const type = avro.Type.forSchema(schema)
  return {
    encode: (value) => type.toBuffer(value),
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
  feedback: Codec<DetectionFeedback>
}

/** Built once per process (schema parsing is not for the hot path). */
export function createCodecs(): Codecs {
  return {
    authEvent: loadCodec<AuthEvent>('auth-event.avsc'),
    detection: loadCodec<Detection>('detection.avsc'),
    dlq: loadCodec<DlqRecord>('dlq-record.avsc'),
    alertDelivery: loadCodec<AlertDelivery>('alert-delivery.avsc'),
    feedback: loadCodec<DetectionFeedback>('detection-feedback.avsc'),
  }
}
