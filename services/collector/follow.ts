import { open, stat } from 'node:fs/promises'
import type { Line } from './lines.js'

export interface FollowOptions {
  maxLineBytes: number
  pollMs: number
  signal: AbortSignal
  /** Start at the end of the file (new lines only) instead of its beginning. */
  fromEnd: boolean
}

/**
 * `tail -F` for one file: yields complete lines as they are appended, waits for the newline of a line still
 * being written, and starts over from the top when the file is truncated or replaced (log rotation).
 * Polls the file size: portable, and one stat a second costs nothing next to the lines it finds.
 */
export async function* followLines(path: string, options: FollowOptions): AsyncGenerator<Line> {
  let offset = options.fromEnd ? (await stat(path)).size : 0
  let inode = (await stat(path)).ino
  let pending: Buffer = Buffer.alloc(0)
  let pendingBytes = 0
  let number = 0
  const buffer = Buffer.alloc(1 << 16)
  while (!options.signal.aborted) {
    const info = await stat(path).catch(() => undefined)
    if (info && (info.ino !== inode || info.size < offset)) {
      inode = info.ino
      offset = 0
      pending = Buffer.alloc(0)
      pendingBytes = 0
    }
    if (!info || info.size === offset) {
      await waitOrAbort(options.pollMs, options.signal)
      continue
    }
    const handle = await open(path, 'r')
    try {
      for (;;) {
        const { bytesRead } = await handle.read(buffer, 0, buffer.length, offset)
        if (bytesRead === 0) break
        offset += bytesRead
        let start = 0
        const chunk = buffer.subarray(0, bytesRead)
        for (let nl = chunk.indexOf(0x0a, start); nl !== -1; nl = chunk.indexOf(0x0a, start)) {
          const piece = chunk.subarray(start, nl)
          const bytes = pendingBytes + piece.length
          const kept = pending.length < options.maxLineBytes ? Buffer.concat([pending, piece.subarray(0, options.maxLineBytes - pending.length)]) : pending
          yield { text: kept.toString('utf8').replace(/\r$/, ''), number: ++number, bytes, truncated: bytes > options.maxLineBytes }
          pending = Buffer.alloc(0)
          pendingBytes = 0
          start = nl + 1
        }
        const rest = chunk.subarray(start)
        pendingBytes += rest.length
        if (pending.length < options.maxLineBytes) pending = Buffer.concat([pending, rest.subarray(0, options.maxLineBytes - pending.length)])
      }
    } finally {
      await handle.close()
    }
  }
}

function waitOrAbort(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms)
    signal.addEventListener('abort', done, { once: true })
    function done() {
      clearTimeout(timer)
      signal.removeEventListener('abort', done)
      resolve()
    }
  })
}
