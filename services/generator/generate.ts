// Labeled synthetic traffic in canonical NDJSON: honest users browsing from their own network, and planted
// hijacks whose ground truth goes to a separate file, for the demo, the tests and the benchmarks.
// Deterministic for a given seed, so a benchmark or a test can be repeated exactly.

import { createRandom } from './random.js'

export interface GenerateOptions {
  users: number
  /** Stolen-cookie replays from another network (the attack the foundation detector must page on). */
  attacks: number
  seed: number
  startMs: number
  /** Validations per honest session, on average. */
  requestsPerSession: number
}

export interface Truth {
  kind: 'stolen_cookie_replay'
  subject: string
  session_id: string
  first_malicious_ts: string
  attacker_ip: string
}

export interface Generated {
  lines: string[]
  truth: Truth[]
  sessions: number
}

interface Network {
  asn: number
  org: string
  country: string
  city: string
  lat: number
  lon: number
  base: [number, number]
}

// Residential and mobile providers the honest users sit behind; address blocks are illustrative.
const HOME_NETWORKS: Network[] = [
  { asn: 7922, org: 'Comcast Cable', country: 'US', city: 'Denver', lat: 39.74, lon: -104.99, base: [73, 14] },
  { asn: 701, org: 'Verizon Business', country: 'US', city: 'New York', lat: 40.71, lon: -74.0, base: [71, 167] },
  { asn: 3320, org: 'Deutsche Telekom AG', country: 'DE', city: 'Berlin', lat: 52.52, lon: 13.4, base: [87, 150] },
  { asn: 2856, org: 'British Telecommunications PLC', country: 'GB', city: 'London', lat: 51.51, lon: -0.13, base: [86, 128] },
  { asn: 3215, org: 'Orange S.A.', country: 'FR', city: 'Paris', lat: 48.86, lon: 2.35, base: [90, 12] },
]
// Where stolen cookies are replayed from: hosting and foreign residential proxies.
const ATTACK_NETWORKS: Network[] = [
  { asn: 14061, org: 'DigitalOcean, LLC', country: 'NL', city: 'Amsterdam', lat: 52.37, lon: 4.9, base: [167, 99] },
  { asn: 16276, org: 'OVH SAS', country: 'FR', city: 'Roubaix', lat: 50.69, lon: 3.18, base: [51, 75] },
  { asn: 9009, org: 'M247 Europe SRL', country: 'RO', city: 'Bucharest', lat: 44.43, lon: 26.1, base: [185, 156] },
]
const BROWSERS = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15',
  'Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1',
]
const ATTACK_AGENTS = [
  'python-requests/2.32.3',
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0.0.0 Safari/537.36',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0',
]
const ROUTES = ['/api/inbox', '/api/inbox/{id}', '/api/profile', '/api/calendar', '/api/files/{id}', '/api/search']

export function generate(options: GenerateOptions): Generated {
  const rnd = createRandom(options.seed)
  const events: { ts: number; line: Record<string, unknown> }[] = []
  const truth: Truth[] = []
  let sessions = 0
  let counter = 0
  const iso = (ms: number) => new Date(ms).toISOString()
  const ipIn = (net: Network, host: number) => `${net.base[0]}.${net.base[1]}.${host >> 8 & 255}.${host & 255}`
  const place = (net: Network) => ({ asn: net.asn, asn_org: net.org, country: net.country, city: net.city, lat: net.lat, lon: net.lon })
  const push = (ts: number, line: Record<string, unknown>) => {
    counter++
    events.push({ ts, line: { event_id: `gen-${options.seed}-${counter}`, ts: iso(ts), source: { system: 'generator' }, ...line } })
  }

  const attackUsers = new Set<number>()
  while (attackUsers.size < Math.min(options.attacks, options.users)) attackUsers.add(rnd.int(0, options.users - 1))

  for (let u = 0; u < options.users; u++) {
    const subject = `u${10000 + u}@acme.example`
    const home = rnd.pick(HOME_NETWORKS)
    const host = rnd.int(2, 60000)
    const ip = ipIn(home, host)
    const agent = rnd.pick(BROWSERS)
    const device = `d-${rnd.hex(8)}`
    const sessionCount = rnd.int(1, 2)
    for (let s = 0; s < sessionCount; s++) {
      sessions++
      const sessionId = `s-${rnd.hex(12)}`
      const cookie = `sc_${rnd.hex(40)}`
      const login = options.startMs + rnd.int(0, 6 * 3600_000) + s * 7 * 3600_000
      const common = { subject, session_id: sessionId, ip, user_agent: agent, device_id: device, ...place(home) }
      push(login, { kind: 'ISSUE', action: 'login', token: cookie, token_kind: 'session_cookie', amr: ['pwd', 'otp'], ...common })
      let t = login
      const requests = Math.max(1, Math.round(options.requestsPerSession * (0.5 + rnd.next())))
      for (let r = 0; r < requests; r++) {
        t += rnd.int(5_000, 180_000)
        push(t, { kind: 'VALIDATE', action: 'request', token: cookie, token_kind: 'session_cookie', validator: 'edge-1', method: 'GET', route: rnd.pick(ROUTES), status: 200, result: 'OK', ...common })
      }
      const planted = s === 0 && attackUsers.has(u)
      if (planted) {
        const net = rnd.pick(ATTACK_NETWORKS)
        const attackerIp = ipIn(net, rnd.int(2, 60000))
        const attackerAgent = rnd.pick(ATTACK_AGENTS)
        const first = login + rnd.int(60_000, 20 * 60_000)
        let at = first
        for (let r = 0; r < 6; r++) {
          push(at, {
            kind: 'VALIDATE', action: 'request', token: cookie, token_kind: 'session_cookie', subject, session_id: sessionId,
            ip: attackerIp, user_agent: attackerAgent, validator: 'edge-2', method: r === 5 ? 'POST' : 'GET',
            route: r === 5 ? '/api/export' : rnd.pick(ROUTES), status: 200, result: 'OK', ...place(net),
          })
          at += rnd.int(2_000, 30_000)
        }
        truth.push({ kind: 'stolen_cookie_replay', subject, session_id: sessionId, first_malicious_ts: iso(first), attacker_ip: attackerIp })
      }
      if (rnd.next() < 0.6) push(t + rnd.int(1_000, 60_000), { kind: 'REVOKE', action: 'logout', revoke_scope: 'session', token: cookie, token_kind: 'session_cookie', ...common })
    }
  }
  events.sort((a, b) => a.ts - b.ts)
  return { lines: events.map((e) => JSON.stringify(e.line)), truth, sessions }
}
