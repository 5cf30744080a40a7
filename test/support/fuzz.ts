// Damaged input for parser tests: deterministic cuts, type swaps, deep nesting, huge strings and noise made
// from valid lines, and the check that a parser survives them (events of a known kind, or a known reject).
import assert from 'node:assert/strict'
import { EVENT_KINDS } from '../../schemas/model.js'
import { REJECT_CODES, type LogFormat } from '../../services/collector/formats/types.js'
/** Deterministic damage to valid lines: cuts, type swaps, deep nesting, huge strings, noise. */
export function garbage(seeds: string[], count: number, seed: number): string[] {
  let state = seed
  const rand = (n: number) => {
    state = (state * 1103515245 + 12345) % 2147483648
    return state % n
  }
  const odd: unknown[] = [null, 0, -1, 1.5e308, '', 'null', 'unknown', true, [], {}, [[{}]], 'x'.repeat(200_000), '\u0000\ud800', { length: 1 }, '__proto__', 'constructor']
  const out: string[] = []
  for (let i = 0; i < count; i++) {
    const line = seeds[rand(seeds.length)]!
    switch (i % 8) {
      case 0:
        out.push(line.slice(0, rand(line.length + 1)))
        break
      case 1:
      case 2:
      case 3:
        out.push(swapJson(line, odd[rand(odd.length)], rand) ?? line.replace(/[=":,]/, '\u0000'))
        break
      case 4:
        out.push(rand(2) ? '{"a":'.repeat(20_000) + '1' + '}'.repeat(20_000) : '['.repeat(50_000 + rand(10)))
        break
      case 5:
        out.push(Array.from({ length: rand(400) }, () => String.fromCharCode(rand(0x3000))).join(''))
        break
      case 6: {
        const at = rand(line.length + 1)
        out.push(line.slice(0, at) + String.fromCharCode(rand(128)) + line.slice(at + 1))
        break
      }
      default:
        out.push(line.replace(/"[^"]{1,40}"/, JSON.stringify('y'.repeat(100_000 + rand(1000)))))
    }
  }
  return out
}

/** Replaces one value somewhere inside a JSON line; undefined when the line is not JSON. */
function swapJson(line: string, value: unknown, rand: (n: number) => number): string | undefined {
  let root: unknown
  try {
    root = JSON.parse(line)
  } catch {
    return undefined
  }
  const holders: (Record<string, unknown> | unknown[])[] = []
  const stack: unknown[] = [root]
  while (stack.length > 0) {
    const node = stack.pop()
    if (typeof node !== 'object' || node === null) continue
    holders.push(node as Record<string, unknown>)
    for (const child of Object.values(node)) stack.push(child)
  }
  const holder = holders[rand(holders.length)]
  if (!holder) return JSON.stringify(value)
  const keys = Object.keys(holder)
  if (keys.length === 0) return JSON.stringify(value)
  ;(holder as Record<string, unknown>)[keys[rand(keys.length)]!] = value
  return JSON.stringify(root)
}

export function assertSurvives(format: LogFormat, lines: string[]): void {
  for (const line of lines) {
    const result = format.parse(line)
    if (result.ok) {
      for (const event of result.events) {
        assert.ok(EVENT_KINDS.includes(event.kind), `kind ${String(event.kind)} from ${line.slice(0, 120)}`)
        assert.ok(Number.isFinite(event.ts) && event.ts >= 0, `ts ${event.ts} from ${line.slice(0, 120)}`)
        assert.equal(event.source.format, format.name)
      }
    } else {
      assert.ok(REJECT_CODES.includes(result.code), `code ${result.code}`)
      assert.equal(typeof result.reason, 'string')
    }
  }
}
