import type { Writable } from 'node:stream'

/** One status line on stderr, rewritten at most every 500 ms on a terminal, every 10 s elsewhere. */
export function createProgress(out: Writable, label: string, now: () => number = () => Date.now()) {
  const tty = Boolean((out as { isTTY?: boolean }).isTTY)
  const started = now()
  let last = 0
  const rate = (n: number) => Math.round(n / Math.max(0.001, (now() - started) / 1000))
  return {
    update(count: number, detail = '') {
      const t = now()
      if (t - last < (tty ? 500 : 10_000)) return
      last = t
      const text = `${label}: ${count} lines, ${rate(count)}/s ${detail}`
      out.write(tty ? `\r\x1b[K${text}` : text + '\n')
    },
    done(count: number) {
      const seconds = ((now() - started) / 1000).toFixed(1)
      out.write(`${tty ? '\r\x1b[K' : ''}${label}: ${count} lines in ${seconds} s (${rate(count)}/s)\n`)
    },
  }
}
