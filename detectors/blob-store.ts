// The frozen groups' bytes (engine.ts), by handle: in memory, or with every chunk but the one being filled in a
// file on local disk. The file is a cache of what the checkpoints in the detector.state topic hold anyway: it is
// unlinked as soon as it is opened, so nothing is left behind by a crash and nothing needs to survive a restart.
import { randomUUID } from 'node:crypto'
import { closeSync, mkdirSync, openSync, readSync, unlinkSync, writeSync } from 'node:fs'
import { join } from 'node:path'

export interface BlobStoreOptions {
  /** A directory (made if missing) for the file that holds chunks no longer being filled; none: they stay in memory. */
  dir?: string
}

/**
 * Byte strings by handle, in chunks of an eighth of the live bytes, 32 kB to 4 MB (a growing single buffer would
 * hold up to a third more than it uses, and copy everything to grow). A chunk, other than the one being filled,
 * whose stale bytes pass a quarter of it has its live blobs copied to the end and is given back: the store holds at
 * most a third more than its live bytes (plus the chunk being filled), and no drop copies more than one chunk's worth.
 *
 * With a directory, a chunk is written to the file when the store moves on to the next one (chunk c at c × 4 MB,
 * so a chunk given back leaves its place to the next chunk given its index) and read from it blob by blob: the
 * heap holds the chunk being filled (at most 1 MB) and the handles, 8 bytes a blob. A chunk the file cannot take
 * (a full disk) stays in memory and is counted in `spillFailures`.
 */
export class BlobStore {
  /** Chunks in memory by index; null: on disk, or given back (its index free for another). */
  private chunks: (Buffer | null)[] = []
  /** Each chunk's size (what it can hold), in memory or on disk; 0: given back. */
  private room: number[] = []
  /** Bytes written to each chunk, live or stale. */
  private fill: number[] = []
  /** Stale bytes in each chunk. */
  private staleIn: number[] = []
  private readonly freeChunks: number[] = []
  /** The chunk being filled (-1: none yet). */
  private tail = -1
  // Per handle: its chunk, where it starts, and its length (LONG: in `longLength`); 8 bytes a blob.
  private chunk = new Uint16Array(1024)
  private off = new Uint32Array(1024)
  private len = new Uint16Array(1024)
  private readonly longLength = new Map<number, number>()
  private readonly free: number[] = []
  private handles = 0
  private live = 0
  private stale = 0
  /** The file of chunks on disk (-1: none, or closed). */
  private fd = -1
  /** Where a blob read from the file is copied (grown to the longest). */
  private scratch = Buffer.allocUnsafeSlow(1 << 12)
  /** The largest chunk: on disk, the one being filled is what memory holds, so it is kept smaller. */
  private readonly maxChunk: number
  /** Blobs held. */
  count = 0
  /** Chunks that stayed in memory because the file could not take them. */
  spillFailures = 0

  constructor(options: BlobStoreOptions = {}) {
    this.maxChunk = options.dir === undefined ? MAX_CHUNK : MAX_CHUNK / 4
    if (options.dir === undefined) return
    mkdirSync(options.dir, { recursive: true, mode: 0o700 })
    const path = join(options.dir, `frozen-${process.pid}-${randomUUID()}.bin`)
    this.fd = openSync(path, 'wx+', 0o600)
    unlinkSync(path)
  }

  /** Whether chunks no longer being filled go to disk. */
  get onDisk(): boolean {
    return this.fd >= 0
  }

  put(src: Buffer): number {
    let h = this.free.pop()
    if (h === undefined) {
      h = this.handles++
      if (h >= this.off.length) {
        this.chunk = widened(this.chunk)
        this.off = widened(this.off)
        this.len = widened(this.len)
      }
    }
    this.place(h, src, 0, src.length)
    this.live += src.length
    this.count++
    return h
  }

  /** Blob h's bytes: a view valid until the next call on the store. */
  view(h: number): Buffer {
    const c = this.chunk[h]!
    const from = this.off[h]!
    const n = this.lengthOf(h)
    const chunk = this.chunks[c]
    if (chunk) return chunk.subarray(from, from + n)
    if (n > this.scratch.length) this.scratch = Buffer.allocUnsafeSlow(Math.max(n, 2 * this.scratch.length))
    this.readAt(this.scratch, n, c * MAX_CHUNK + from)
    return this.scratch.subarray(0, n)
  }

  drop(h: number): void {
    const n = this.lengthOf(h)
    const c = this.chunk[h]!
    if (n >= LONG) this.longLength.delete(h)
    this.live -= n
    this.stale += n
    this.staleIn[c]! += n
    this.len[h] = 0
    this.chunk[h] = NO_CHUNK
    this.free.push(h)
    this.count--
    if (c !== this.tail && this.staleIn[c]! * 4 > this.room[c]!) this.evacuate(c)
  }

  /** Lets go of the file; the store is not used after. */
  close(): void {
    if (this.fd < 0) return
    closeSync(this.fd)
    this.fd = -1
  }

  /** Bytes in use, live and stale. */
  get size(): number {
    return this.live + this.stale
  }

  /** Bytes of the blobs held. */
  get bytes(): number {
    return this.live
  }

  private lengthOf(h: number): number {
    const n = this.len[h]!
    return n === LONG ? this.longLength.get(h)! : n
  }

  /** Bytes of the table of handles (chunk, offset and length of each). */
  get handleBytes(): number {
    return this.chunk.byteLength + this.off.byteLength + this.len.byteLength
  }

  /** Bytes of the chunks held in memory (what the store costs) and on disk, and of the one being filled. */
  get reserved(): { total: number; disk: number; tail: number } {
    let total = 0
    let disk = 0
    for (let c = 0; c < this.room.length; c++) {
      if (this.chunks[c]) total += this.room[c]!
      else disk += this.room[c]!
    }
    return { total, disk, tail: this.tail < 0 ? 0 : this.room[this.tail]! }
  }

  /** Copies bytes[from, to) to the end of the chunk being filled, as blob h. */
  private place(h: number, bytes: Buffer, from: number, to: number): void {
    const n = to - from
    let c = this.tail
    if (c < 0 || this.fill[c]! + n > this.room[c]!) c = this.addChunk(n)
    bytes.copy(this.chunks[c]!, this.fill[c]!, from, to)
    this.chunk[h] = c
    this.off[h] = this.fill[c]!
    this.len[h] = Math.min(n, LONG)
    if (n >= LONG) this.longLength.set(h, n)
    this.fill[c]! += n
  }

  private addChunk(n: number): number {
    // An eighth of the live bytes (a power of two), within bounds: a small store holds little unused room, and a
    // large one takes few chunks. A chunk's place in the file is 4 MB: a longer blob's chunk stays in memory.
    let size = MIN_CHUNK
    while (size < this.maxChunk && size * 8 < this.live) size *= 2
    size = Math.max(n, size)
    const buffer = Buffer.allocUnsafeSlow(size)
    // The chunk left behind may already be mostly stale: it is judged now that it is no longer filled, and
    // written to the file only if it is kept.
    const left = this.tail
    let c = this.freeChunks.pop()
    if (c === undefined) {
      c = this.chunks.length
      if (c >= NO_CHUNK) throw new RangeError(`frozen state holds more chunks than a handle can name (${NO_CHUNK})`)
      this.chunks.push(buffer)
      this.room.push(size)
      this.fill.push(0)
      this.staleIn.push(0)
    } else {
      this.chunks[c] = buffer
      this.room[c] = size
      this.fill[c] = 0
      this.staleIn[c] = 0
    }
    this.tail = c
    if (left >= 0) {
      if (this.staleIn[left]! * 4 > this.room[left]!) this.evacuate(left)
      else this.spill(left)
    }
    return c
  }

  /** Writes a chunk no longer being filled to the file, and lets go of its buffer. */
  private spill(c: number): void {
    const chunk = this.chunks[c]!
    if (this.fd < 0 || chunk.length > MAX_CHUNK) return
    try {
      let done = 0
      while (done < this.fill[c]!) done += writeSync(this.fd, chunk, done, this.fill[c]! - done, c * MAX_CHUNK + done)
    } catch {
      // No room on disk (or the disk failed): the chunk stays in memory, as without a file.
      this.spillFailures++
      return
    }
    this.chunks[c] = null
  }

  /** Moves chunk c's live blobs to the chunk being filled and gives c back. */
  private evacuate(c: number): void {
    let old = this.chunks[c]
    if (!old) {
      old = Buffer.allocUnsafeSlow(this.fill[c]!)
      this.readAt(old, old.length, c * MAX_CHUNK)
    }
    for (let h = 0; h < this.handles; h++) {
      if (this.chunk[h] !== c) continue
      const from = this.off[h]!
      this.place(h, old, from, from + this.lengthOf(h))
    }
    this.stale -= this.staleIn[c]!
    this.chunks[c] = null
    this.room[c] = 0
    this.fill[c] = 0
    this.staleIn[c] = 0
    this.freeChunks.push(c)
  }

  private readAt(into: Buffer, n: number, position: number): void {
    let done = 0
    while (done < n) {
      const got = readSync(this.fd, into, done, n - done, position + done)
      if (got === 0) throw new Error(`frozen state file ended at ${position + done}, ${n - done} bytes short`)
      done += got
    }
  }
}

const MIN_CHUNK = 1 << 15
const MAX_CHUNK = 1 << 22
const NO_CHUNK = 0xffff
/** A blob this long or longer has its length in BlobStore.longLength. */
const LONG = 0xffff

function widened<T extends Uint16Array<ArrayBuffer> | Uint32Array<ArrayBuffer>>(a: T): T {
  const b = new (a.constructor as new (n: number) => T)(a.length * 2)
  b.set(a)
  return b
}
