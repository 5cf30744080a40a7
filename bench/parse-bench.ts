// `make bench-parse`: collector throughput on one core — parse, normalise (fingerprint, address, city and
// ASN lookup, user agent) and Avro-encode — for Okta System Log JSON and Envoy JSON access logs. The fixture lines are repeated with
// a fresh id, address and token per line, and every run gets addresses no earlier run used, so caches and deduplication
// do not flatter the figure (the enrichment cache outlives a run, as it outlives a batch in the collector). BENCHMARKS.md
// says where this is harsher than real traffic.
import { readFileSync } from 'node:fs'
import { cpus } from 'node:os'
import { median } from 'simple-statistics'
import { numberArg } from './args.js'
import { createFormatRegistry } from '../services/collector/formats/index.js'
import { createNormalizer } from '../services/collector/normalize.js'
import { createCodecs } from '../services/shared/avro.js'
import { createFingerprinter } from '../services/shared/fingerprint.js'
import { createAddressEnricher } from '../services/collector/enrich/enricher.js'
import { fixturePath } from '../test/support/paths.js'

const LINES = numberArg('--lines', 100_000)
const RUNS = numberArg('--runs', 5)

type Vary = (line: string, i: number) => string

/** The lines of one run, numbered so that no two lines of the whole bench (any format, any run) share a number. */
function variants(file: string, vary: Vary): (batch: number) => string[] {
  const base = readFileSync(file, 'utf8').split('\n').filter((l) => l.trim().startsWith('{'))
  return (batch) => Array.from({ length: LINES }, (_, i) => vary(base[i % base.length]!, batch * LINES + i))
}

// Addresses come from 81.0.0.0/8, 16.7M of them.
if (2 * RUNS * LINES > 1 << 24) throw new Error('--runs × --lines must stay under 8.3M so every line gets its own address')
const address = (n: number) => `81.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`
const address6 = (n: number) => `2a01:${(n >> 16).toString(16)}:${(n & 0xffff).toString(16)}::17`
const inputs: Record<string, (run: number) => string[]> = {
  okta: variants(fixturePath('formats', 'okta', 'system-log.ndjson'), (line, n) =>
    line.replace(/"uuid":"[^"]+"/, `"uuid":"bench-${n}"`).replace(/"ipAddress":"\d+\.\d+\.\d+\.\d+"/, `"ipAddress":"${address(n)}"`)),
  // The client address is X-Forwarded-For's first hop where the line has one (the default client address
  // mode), else the downstream peer; both are varied, the IPv6 peer too. Tokens stay JWTs (bearer, DPoP,
  // query string), each made unique by its signature, and the session cookie gets a unique value.
  envoy: variants(fixturePath('formats', 'envoy', 'istio-json.ndjson'), (line, n) =>
    line.replace(/"request_id":"[^"]+"/, `"request_id":"bench-${n}"`)
      .replace(/(eyJ[A-Za-z0-9_-]+\.eyJ[A-Za-z0-9_-]+\.)[A-Za-z0-9_-]+/g, `$1c2lnbmF0dXJl${n}`)
      .replace(/connect\.sid=[^;"]+/, `connect.sid=s%3Abench${n}.c2lnbmF0dXJl`)
      .replace(/"x_forwarded_for":"\d+\.\d+\.\d+\.\d+/, `"x_forwarded_for":"${address(n)}`)
      .replace(/"downstream_remote_address":"\d+\.\d+\.\d+\.\d+/, `"downstream_remote_address":"${address(n)}`)
      .replace('[2001:db8:4::17]', `[${address6(n)}]`)),
}

const formats = createFormatRegistry()
const codecs = createCodecs()
// The shipped city and ASN databases, as the collector runs by default.
const enrichAddress = createAddressEnricher({ enabled: true, cityAccuracyKm: 50 })
const results: Record<string, unknown> = { machine: `${cpus()[0]?.model ?? 'cpu'}, node ${process.version}`, lines_per_run: LINES, runs: RUNS }
for (const [f, [name, linesFor]] of Object.entries(inputs).entries()) {
  const format = formats.get(name)!
  const rates: number[] = []
  let events = 0
  for (let run = 0; run < RUNS; run++) {
    const lines = linesFor(f * RUNS + run)
    const normalize = createNormalizer({ fingerprint: createFingerprinter('bench-key-bench-key-bench-key-bench-key'), enrichAddress, now: () => 0 })
    events = 0
    const started = process.hrtime.bigint()
    for (const line of lines) {
      const parsed = format.parse(line)
      if (!parsed.ok) continue
      for (let i = 0; i < parsed.events.length; i++) {
        codecs.authEvent.encode(normalize(parsed.events[i]!, line, i))
        events++
      }
    }
    rates.push(lines.length / (Number(process.hrtime.bigint() - started) / 1e9))
  }
  results[name] = { median_lines_per_s: Math.round(median(rates)), events_per_run: events, runs_lines_per_s: rates.map(Math.round) }
}
console.log(JSON.stringify(results, null, 2))
