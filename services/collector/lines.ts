import { createReadStream } from 'node:fs'
import type { Readable } from 'node:stream'
import { createGunzip } from 'node:zlib'

export interface Line {
  text: string
  number: number
  /** Bytes the full line had; larger than text when the line was cut at the limit. */
  bytes: number
  truncated: boolean
}

/**
 * Splits a byte stream into lines without ever holding more than maxLineBytes of one line: a 2 GB line
 * with no newline must not take the collector down. A cut line is still yielded (truncated) so it can go
 * to the DLQ with its reason.
 */
export async function* readLines(stream: Readable, maxLineBytes: number): AsyncGenerator<Line> {
  let parts: Buffer[] = []
  let kept = 0
  let bytes = 0
  let number = 0
  const finish = (): Line => {
    const text = Buffer.concat(parts).toString('utf8').replace(/\r$/, '')
    const line = { text, number: ++number, bytes, truncated: bytes > maxLineBytes }
    parts = []
    kept = 0
    bytes = 0
    return line
  }
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    let start = 0
    while (start < chunk.length) {
      const nl = chunk.indexOf(0x0a, start)
      const end = nl === -1 ? chunk.length : nl
      const piece = chunk.subarray(start, end)
      bytes += piece.length
      if (kept < maxLineBytes) {
        const room = maxLineBytes - kept
        const take = piece.length > room ? piece.subarray(0, room) : piece
        parts.push(Buffer.from(take))
        kept += take.length
      }
      if (nl === -1) break
      yield finish()
      start = nl + 1
    }
  }
  if (bytes > 0 || parts.length > 0) yield finish()
}

export function openInput(path: string): Readable {
  const raw = createReadStream(path)
  return path.endsWith('.gz') ? raw.pipe(createGunzip()) : raw
}
