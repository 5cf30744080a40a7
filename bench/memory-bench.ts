// `make bench-memory` (`--tokens N`, `--profile cookie|oidc`, `--frozen disk|memory`, `--only d1,d2`,
// `--hot-groups N`, `--revisits N`, `--restore`, `--snapshot file`): detector state held for a million active
// tokens, all inside the window, so no slot is evicted. Reports the V8 heap after a full GC, before and after, per million tokens (goal: ≤ 256 MB), and where
// it goes per token (the engine's footprint: frozen bytes, slot names, per-group columns, the rest). The
// engine's credential records keep their numbers in typed arrays, whose memory V8 counts outside the heap
// (`arrayBuffers`): it is added, so the figure is everything the state holds. `--only <detector,…>` runs a
// subset, to see what each one costs.
//
// Profiles: `cookie` (the default, the worst case) gives every token a user of its own: a login that sets a
// session cookie and two requests presenting it from the user's home network. `oidc` is a web application's
// sign-in as OpenID Connect has it: the login's session cookie, then an access token (a JWT with a jti, valid an
// hour) and a refresh token granted to the application, three tokens per user; the requests present the access
// token, which names the session by its sid claim.
//
// Events reach the engine as the detector service hands them over: Avro-decoded from the topic, so every string
// is a flat copy of its own (a string built here by concatenation would be a V8 cons string, larger than what
// the service holds), with identifiers shaped like real ones: UUID event ids, 25-character session ids (Okta's
// externalSessionId), the collector's token fingerprints, 32-hex-digit device ids.
import { createHash } from 'node:crypto'
import { cpus } from 'node:os'
import { closeSync, createReadStream, openSync, writeSync } from 'node:fs'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { writeHeapSnapshot } from 'node:v8'
import type { AuthEvent } from '../schemas/model.js'
import { createDetectionEngine, DEFAULT_HOT_GROUPS, type StateEntry } from '../detectors/engine.js'
import { createDetectors } from '../detectors/index.js'
import { createCodecs } from '../services/shared/avro.js'
import { createFingerprinter } from '../services/shared/fingerprint.js'
import { packageRoot } from '../services/shared/paths.js'
import { choiceArg, numberArg } from './args.js'

const TOKENS = numberArg('--tokens', 1_000_000)
const PROFILE = choiceArg('--profile', ['cookie', 'oidc'])
const gc = (globalThis as { gc?: () => void }).gc
if (!gc) throw new Error('run with node --expose-gc')

function heapMb(): number {
  gc!()
  gc!()
  const m = process.memoryUsage()
  return (m.heapUsed + m.arrayBuffers) / 1024 / 1024
}

const onlyAt = process.argv.indexOf('--only')
const only = onlyAt === -1 ? null : new Set(process.argv[onlyAt + 1]?.split(','))
const chosenDetectors = () => createDetectors({ windowMs: 30 * 60_000 }).filter((d) => only === null || only.has(d.name))
// Frozen groups' bytes on disk, as the detector service keeps them by default (SW_FROZEN_STORE), or in memory.
const FROZEN = choiceArg('--frozen', ['disk', 'memory'])
const frozenDir = FROZEN === 'disk' ? join(packageRoot, 'bench', 'out', 'frozen') : undefined
const engineConfig = { latenessMs: 5 * 60_000, sweepEveryMs: 60_000, hotGroups: numberArg('--hot-groups', DEFAULT_HOT_GROUPS), frozenDir }
const detectors = chosenDetectors()
const engine = createDetectionEngine(detectors, engineConfig)
const UA = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36'
const start = Date.parse('2026-11-20T08:00:00Z')
const codec = createCodecs().authEvent
const fingerprint = createFingerprinter('bench-key-bench-key-bench-key-bench-key')
const hex = (label: string, i: number) => createHash('sha256').update(label + i).digest('hex')
const uuid = (i: number, n: number) => {
  const h = hex('event', i * 3 + n)
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`
}
const SESSION_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'
const sessionId = (i: number) => '102' + [...hex('session', i).slice(0, 22)].map((c, k) => SESSION_ALPHABET[(parseInt(c, 16) * 4 + k) % 62]).join('')
/** The event as the detector service gets it: through the topic's Avro encoding. */
const delivered = (event: AuthEvent): AuthEvent => codec.decode(codec.encode(event))
/** Token i's login at `ts`, from its home address; its requests are this with another kind, id and route. */
function loginOf(i: number, ts: number): AuthEvent {
  const ip = `73.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`
  return {
    event_id: uuid(i, 0), kind: 'ISSUE', action: 'login', ts, ingest_ts: ts, source: { system: 'bench' },
    subject: `u${i}@acme.example`, session_id: sessionId(i), token_fp: fingerprint(`cookie-${i}`),
    token_kind: 'session_cookie', scopes: [], amr: ['pwd', 'otp'], net_flags: [], claims_unverified: false,
    ip, ip_prefix: ip.replace(/\.\d+$/, '.0/24'), asn: 7922, asn_org: 'Comcast Cable Communications, LLC', country: 'US', city: 'Denver',
    lat: 39.74, lon: -104.99, user_agent: UA, ua_family: 'Chrome', os_family: 'Windows', device_type: 'desktop', device_id: hex('device', i).slice(0, 32),
  }
}
const request = { kind: 'VALIDATE', action: 'request', method: 'GET', status: 200, result: 'OK', validator: 'edge-1' } as const
/** An OIDC web application's access token for user i's session, and its refresh token (PROFILE 'oidc'). */
function tokensOf(i: number, login: AuthEvent): { access: AuthEvent; refresh: AuthEvent } {
  const grant: AuthEvent = { ...login, action: 'token_grant', ts: login.ts + 200, client_id: 'mail-web', scopes: ['openid', 'profile', 'mail.read'] }
  return {
    access: { ...grant, event_id: uuid(i, 4), token_kind: 'access', token_fp: fingerprint(`access-${i}`), jti: hex('jti', i).slice(0, 22), issued_at: grant.ts, expires_at: grant.ts + 3600_000 },
    refresh: { ...grant, event_id: uuid(i, 5), token_kind: 'refresh', token_fp: fingerprint(`refresh-${i}`) },
  }
}
const before = heapMb()
const began = performance.now()
let events = 0
let users = 0
const feed = (event: AuthEvent) => {
  engine.process(delivered(event))
  events++
}
for (let i = 0, tokens = 0; tokens < TOKENS; i++, users++) {
  // Spread over 20 minutes of event time so every slot is still live at the end.
  const ts = start + Math.floor((tokens / TOKENS) * 20 * 60_000)
  const base = loginOf(i, ts)
  feed(base)
  tokens++
  // The requests present the session cookie, or (OIDC) the access token, which names the session by its sid claim.
  let presented = base
  if (PROFILE === 'oidc') {
    const { access, refresh } = tokensOf(i, base)
    feed(access)
    feed(refresh)
    tokens += 2
    presented = access
  }
  feed({ ...presented, ...request, event_id: uuid(i, 1), ts: ts + 1000, route: '/api/inbox' })
  feed({ ...presented, ...request, event_id: uuid(i, 2), ts: ts + 2000, route: '/api/profile' })
  if (i % 100_000 === 99_999) process.stderr.write(`${tokens} tokens of ${i + 1} users, ${engine.size} slots, ${engine.credentials} credential records\n`)
}
// `--restore`: the checkpoints a worker would write, kept in a file as the state topic keeps them (a key and a
// JSON state per line, or the key alone for a tombstone), and read back into a fresh engine at the end, record by
// record as a worker restoring its partition does: how long a restart takes, and what it holds.
const RESTORE = process.argv.includes('--restore')
const checkpointFile = join(packageRoot, 'bench', 'out', `checkpoint-${PROFILE}.ndjson`)
const checkpointOut = RESTORE ? openSync(checkpointFile, 'w') : -1
function checkpoint() {
  const changes = engine.takeChanges()
  for (let i = 0; checkpointOut >= 0 && i < changes.length; i += 10_000) {
    const lines = changes.slice(i, i + 10_000).map(({ key, state }) => JSON.stringify(state === undefined ? [key] : [key, state]))
    writeSync(checkpointOut, lines.join('\n') + '\n')
  }
}
checkpoint()
const after = heapMb()
const loaded = performance.now()
const footprint = engine.footprint()

// `--revisits N` (after the heap is measured): N more requests, each from a user drawn at random, as a tenant with
// this many active users sends them. Past the hot allowance most find their user's state frozen and thaw it: the
// rate, timed over the engine alone (events are built and Avro-decoded beforehand), shows what freezing costs.
const REVISITS = numberArg('--revisits', 0)
let revisitMs = 0
let seed = 12345
// Park–Miller: products stay below 2^53, so the sequence is exact.
const randomUser = () => (seed = (seed * 48271) % 2147483647) % users
for (let done = 0; done < REVISITS; ) {
  const batch: AuthEvent[] = []
  for (; batch.length < 10_000 && done + batch.length < REVISITS; ) {
    const i = randomUser()
    const k = done + batch.length
    const ts = start + 20 * 60_000 + Math.floor((k / REVISITS) * 60_000)
    const login = loginOf(i, ts)
    const presented = PROFILE === 'oidc' ? tokensOf(i, login).access : login
    batch.push(delivered({ ...presented, ...request, event_id: uuid(TOKENS + k, 3), ts, route: '/api/inbox' }))
  }
  const t0 = performance.now()
  for (const event of batch) engine.process(event)
  revisitMs += performance.now() - t0
  done += batch.length
}
checkpoint()

const result = {
  machine: `${cpus()[0]?.model ?? 'cpu'}, node ${process.version}`,
  profile: PROFILE,
  frozen: FROZEN,
  tokens: TOKENS,
  detectors: detectors.map((d) => d.name).join(' '),
  slots: engine.size,
  credential_records: engine.credentials,
  frozen_groups: engine.frozen,
  heap_mb_before: Math.round(before),
  heap_mb_after: Math.round(after),
  heap_mb_per_million_tokens: Math.round(((after - before) / TOKENS) * 1_000_000),
  // Where it goes, in bytes per token: the frozen groups' bytes, the slot-name index, the per-group columns, and
  // the rest (hot states as objects, the hot credential records' columns, symbols).
  bytes_per_token: (() => {
    const per = (bytes: number) => Math.round(bytes / TOKENS)
    const total = (after - before) * 1024 * 1024
    return {
      frozen: per(footprint.frozenReserved),
      names: per(footprint.nameBytes),
      columns: per(footprint.columnBytes),
      hot_and_rest: per(total - footprint.frozenReserved - footprint.nameBytes - footprint.columnBytes),
    }
  })(),
  // Not in the heap: the frozen groups' chunks in their file (the page cache holds what is read often).
  disk_bytes_per_token: Math.round(footprint.frozenOnDisk / TOKENS),
  groups: footprint.groups,
  hot_groups: footprint.hotGroups,
  events_per_s: Math.round(events / ((loaded - began) / 1000)),
  ...(REVISITS > 0 ? { revisits: REVISITS, revisit_events_per_s: Math.round(REVISITS / (revisitMs / 1000)), frozen_groups_after_revisits: engine.frozen } : {}),
}
console.log(JSON.stringify(result, null, 2))

if (RESTORE) {
  closeSync(checkpointOut)
  const beforeRestore = heapMb()
  const restored = createDetectionEngine(chosenDetectors(), engineConfig)
  const t0 = performance.now()
  let entries = 0
  let maxHot = 0
  const one: StateEntry[] = [{ key: '', state: undefined }]
  for await (const line of createInterface({ input: createReadStream(checkpointFile), crlfDelay: Infinity })) {
    const [key, state] = JSON.parse(line) as [string, unknown?]
    one[0] = { key, state }
    restored.restore(one)
    if (++entries % 10_000 === 0) maxHot = Math.max(maxHot, restored.footprint().hotGroups)
  }
  const seconds = (performance.now() - t0) / 1000
  const heap = heapMb() - beforeRestore
  console.log(JSON.stringify({
    restore: {
      entries, seconds: Math.round(seconds * 10) / 10, entries_per_s: Math.round(entries / seconds),
      heap_mb_per_million_tokens: Math.round((heap / TOKENS) * 1_000_000), max_hot_groups: maxHot,
      slots: restored.size, credential_records: restored.credentials, same_as_original: restored.size === engine.size && restored.credentials === engine.credentials,
    },
  }, null, 2))
  restored.close()
}
// `--snapshot <file>`: a heap snapshot with the state still held, to see what it is made of (Chrome DevTools).
const snapshotAt = process.argv.indexOf('--snapshot')
if (snapshotAt !== -1) writeHeapSnapshot(process.argv[snapshotAt + 1]!)
if (engine.size < 0) console.log('unreachable: keeps the engine alive until here')
