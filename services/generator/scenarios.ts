// Labeled traffic for the quality benchmark (make bench-quality): honest sessions carrying every kind of
// noise that must not page, and every kind of hijack that must. Each session gets a label in the truth list,
// so recall, false positives and time to detect can be scored per kind. Deterministic for a seed.

import { createRandom } from './random.js'

export const NOISE_KINDS = [
  'plain', 'mobile_handover', 'dual_stack', 'ipv6_rotation', 'corporate_egress', 'vpn_switched_on', 'travel',
  'cgnat', 'service_account', 'browser_upgrade', 'tabs_refreshing', 'request_after_logout', 'cloud_gateway',
  'unlisted_vpn',
] as const
export const ATTACK_KINDS = [
  'infostealer_replay', 'phishing_proxy', 'residential_proxy', 'refresh_token_theft', 'stale_edge_after_logout',
  'session_fixation', 'low_and_slow', 'bulk_scraping',
] as const

export type NoiseKind = (typeof NOISE_KINDS)[number]
export type AttackKind = (typeof ATTACK_KINDS)[number]

export interface LabeledSession {
  session_id: string
  subject: string
  label: NoiseKind | AttackKind
  attack: boolean
  /** RFC 3339; attacks only: the first event the attacker caused. */
  first_malicious_ts?: string
}

export interface QualityOptions {
  honestSessions: number
  attacksPerKind: number
  seed: number
  startMs: number
}

interface Net {
  asn: number
  org: string
  country: string
  city: string
  lat: number
  lon: number
  v4: [number, number]
  v6?: string
  flags?: string[]
  mobile?: boolean
}

const HOMES: Net[] = [
  { asn: 7922, org: 'Comcast Cable Communications, LLC', country: 'US', city: 'Denver', lat: 39.74, lon: -104.99, v4: [73, 14], v6: '2601:281:8300' },
  { asn: 701, org: 'Verizon Business', country: 'US', city: 'New York', lat: 40.71, lon: -74.0, v4: [71, 167], v6: '2600:4040:2a1c' },
  { asn: 3320, org: 'Deutsche Telekom AG', country: 'DE', city: 'Berlin', lat: 52.52, lon: 13.4, v4: [87, 150], v6: '2003:e5:1f00' },
  { asn: 2856, org: 'British Telecommunications PLC', country: 'GB', city: 'London', lat: 51.51, lon: -0.13, v4: [86, 128], v6: '2a00:23c7:9b00' },
  { asn: 3215, org: 'Orange S.A.', country: 'FR', city: 'Paris', lat: 48.86, lon: 2.35, v4: [90, 12], v6: '2a01:cb00:83a' },
]
const CARRIERS: Net[] = [
  { asn: 21928, org: 'T-Mobile USA, Inc.', country: 'US', city: 'Aurora', lat: 39.73, lon: -104.83, v4: [172, 56], mobile: true },
  { asn: 3651, org: 'Deutsche Telekom AG (mobile)', country: 'DE', city: 'Potsdam', lat: 52.39, lon: 13.06, v4: [80, 187], mobile: true },
  { asn: 25135, org: 'Vodafone Limited', country: 'GB', city: 'Reading', lat: 51.45, lon: -0.97, v4: [92, 40], mobile: true },
]
const CORPORATE: Net[] = [
  { asn: 62044, org: 'Zscaler, Inc.', country: 'US', city: 'Chicago', lat: 41.88, lon: -87.63, v4: [165, 225] },
  { asn: 53813, org: 'Zscaler, Inc.', country: 'US', city: 'Dallas', lat: 32.78, lon: -96.8, v4: [136, 226] },
  { asn: 62044, org: 'Zscaler, Inc.', country: 'DE', city: 'Frankfurt', lat: 50.11, lon: 8.68, v4: [147, 161] },
]
const VPN: Net = { asn: 9009, org: 'M247 Europe SRL', country: 'NL', city: 'Amsterdam', lat: 52.37, lon: 4.9, v4: [185, 156], flags: ['vpn'] }
// A cloud secure web gateway the tenant's offices egress through: data-centre addresses in a few blocks, which no
// list marks as the tenant's; learned from the many users signing in through it.
const CLOUD_GATEWAY: Net = { asn: 55256, org: 'Netskope Inc', country: 'US', city: 'Santa Clara', lat: 37.35, lon: -121.96, v4: [163, 116], flags: ['hosting'] }
const CLOUD_GATEWAY_BLOCKS = [128, 129, 130]
// A commercial VPN whose exits are in a data centre and in no VPN list: plain hosting addresses, a few blocks.
const UNLISTED_VPN: Net = { asn: 212238, org: 'Datacamp Limited', country: 'DE', city: 'Frankfurt', lat: 50.11, lon: 8.68, v4: [156, 146], flags: ['hosting'] }
const UNLISTED_VPN_BLOCKS = [40, 41]
const HOTEL: Net = { asn: 4713, org: 'NTT Communications Corporation', country: 'JP', city: 'Tokyo', lat: 35.68, lon: 139.69, v4: [153, 246] }
const CLOUD: Net[] = [
  { asn: 16509, org: 'Amazon.com, Inc.', country: 'US', city: 'Ashburn', lat: 39.04, lon: -77.49, v4: [3, 80], flags: ['hosting'] },
  { asn: 16509, org: 'Amazon.com, Inc.', country: 'IE', city: 'Dublin', lat: 53.35, lon: -6.26, v4: [34, 240], flags: ['hosting'] },
  { asn: 15169, org: 'Google LLC', country: 'US', city: 'Council Bluffs', lat: 41.26, lon: -95.86, v4: [35, 192], flags: ['hosting'] },
]
const ATTACKERS: Net[] = [
  { asn: 14061, org: 'DigitalOcean, LLC', country: 'NL', city: 'Amsterdam', lat: 52.37, lon: 4.9, v4: [167, 99], flags: ['hosting'] },
  { asn: 16276, org: 'OVH SAS', country: 'FR', city: 'Roubaix', lat: 50.69, lon: 3.18, v4: [51, 75], flags: ['hosting'] },
  { asn: 12389, org: 'PJSC Rostelecom', country: 'RU', city: 'Moscow', lat: 55.75, lon: 37.62, v4: [95, 24] },
  { asn: 4134, org: 'Chinanet', country: 'CN', city: 'Shanghai', lat: 31.23, lon: 121.47, v4: [116, 228] },
]
// A residential proxy in the victim's own country, on another operator.
const RESIDENTIAL_PROXY: Record<string, Net> = {
  US: { asn: 20115, org: 'Charter Communications Inc', country: 'US', city: 'St. Louis', lat: 38.63, lon: -90.2, v4: [97, 84] },
  DE: { asn: 6805, org: 'Telefonica Germany', country: 'DE', city: 'Munich', lat: 48.14, lon: 11.58, v4: [89, 204] },
  GB: { asn: 5089, org: 'Virgin Media Limited', country: 'GB', city: 'Manchester', lat: 53.48, lon: -2.24, v4: [82, 12] },
  FR: { asn: 12322, org: 'Free SAS', country: 'FR', city: 'Lyon', lat: 45.76, lon: 4.84, v4: [88, 160] },
}
const BROWSERS = [
  { ua: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36', next: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/132.0.0.0 Safari/537.36' },
  { ua: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15', next: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.2 Safari/605.1.15' },
  { ua: 'Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0', next: 'Mozilla/5.0 (X11; Linux x86_64; rv:134.0) Gecko/20100101 Firefox/134.0' },
]
const PHONE = 'Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1'
const TOOLS = ['python-requests/2.32.3', 'Go-http-client/2.0', 'curl/8.10.1', 'okhttp/4.12.0']
const HEADLESS = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0.0.0 Safari/537.36'
const ROUTES = ['/api/inbox', '/api/inbox/{id}', '/api/profile', '/api/calendar', '/api/files/{id}', '/api/search', '/api/contacts']
const MIN = 60_000

export function generateQualityScenario(options: QualityOptions): { lines: string[]; sessions: LabeledSession[] } {
  const rnd = createRandom(options.seed)
  const out: { ts: number; line: string }[] = []
  const sessions: LabeledSession[] = []
  let counter = 0
  const iso = (ms: number) => new Date(ms).toISOString()
  const addr = (net: Net) => `${net.v4[0]}.${net.v4[1]}.${rnd.int(0, 255)}.${rnd.int(1, 254)}`
  /** An address in one of a few /24 blocks of the network (an egress pool). */
  const pooled = (net: Net, blocks: number[]) => place(net, `${net.v4[0]}.${net.v4[1]}.${rnd.pick(blocks)}.${rnd.int(1, 254)}`)
  const place = (net: Net, ip = addr(net)) => ({ ip, asn: net.asn, asn_org: net.org, country: net.country, city: net.city, lat: net.lat, lon: net.lon, ...(net.flags ? { net_flags: net.flags } : {}) })
  const emit = (ts: number, event: Record<string, unknown>) => {
    counter++
    out.push({ ts, line: JSON.stringify({ event_id: `q${options.seed}-${counter}`, ts: iso(ts), source: { system: 'quality' }, ...event }) })
  }

  /** An ordinary browser session: login, then requests spread over its life. Returns its identity and end. */
  function browse(label: LabeledSession['label'], start: number, opts: { net?: Net; ua?: string; requests?: number; logout?: boolean } = {}) {
    const subject = `u${rnd.hex(8)}@acme.example`
    const session_id = `s-${rnd.hex(12)}`
    const token = `sc_${rnd.hex(32)}`
    const net = opts.net ?? rnd.pick(HOMES)
    const where = place(net)
    const ua = opts.ua ?? rnd.pick(BROWSERS).ua
    const device_id = `d-${rnd.hex(8)}`
    const me = { subject, session_id, token, token_kind: 'session_cookie', user_agent: ua, device_id }
    emit(start, { kind: 'ISSUE', action: 'login', amr: ['pwd', 'otp'], ...me, ...where })
    let t = start
    const uses: number[] = []
    for (let i = 0; i < (opts.requests ?? rnd.int(6, 14)); i++) {
      t += rnd.int(20_000, 4 * MIN)
      uses.push(t)
      emit(t, { kind: 'VALIDATE', action: 'request', validator: 'edge-1', method: 'GET', route: rnd.pick(ROUTES), status: 200, result: 'OK', ...me, ...where })
    }
    if (opts.logout) emit(t + rnd.int(5_000, 60_000), { kind: 'REVOKE', action: 'logout', revoke_scope: 'session', ...me, ...where })
    return { subject, session_id, token, me, where, net, ua, device_id, start, end: t, uses }
  }

  const req = (ts: number, me: object, where: object, extra: object = {}) =>
    emit(ts, { kind: 'VALIDATE', action: 'request', validator: 'edge-1', method: 'GET', route: rnd.pick(ROUTES), status: 200, result: 'OK', ...me, ...where, ...extra })

  const honest: Record<NoiseKind, (start: number) => { subject: string; session_id: string }> = {
    plain: (start) => browse('plain', start, { logout: rnd.next() < 0.5 }),
    mobile_handover: (start) => {
      const home = rnd.pick(HOMES.filter((h) => ['US', 'DE', 'GB'].includes(h.country)))
      const carrier = CARRIERS.find((c) => c.country === home.country)!
      const s = browse('mobile_handover', start, { net: home, ua: PHONE, requests: 4 })
      let t = s.end
      for (let i = 0; i < 8; i++) {
        t += rnd.int(30_000, 3 * MIN)
        req(t, s.me, i % 3 === 2 ? s.where : place(carrier))
      }
      return s
    },
    dual_stack: (start) => {
      const home = rnd.pick(HOMES)
      const s = browse('dual_stack', start, { net: home, requests: 3 })
      let t = s.end
      for (let i = 0; i < 8; i++) {
        t += rnd.int(10_000, 2 * MIN)
        const v6 = `${home.v6}:${rnd.hex(4)}:${rnd.hex(4)}:${rnd.hex(4)}:${rnd.hex(4)}:${rnd.hex(4)}`
        req(t, s.me, i % 2 === 0 ? { ...s.where, ip: v6 } : s.where)
      }
      return s
    },
    ipv6_rotation: (start) => {
      const home = rnd.pick(HOMES)
      const v6 = () => ({ ...place(home), ip: `${home.v6}:${rnd.hex(2)}${rnd.hex(2)}:${rnd.hex(4)}:${rnd.hex(4)}:${rnd.hex(4)}:${rnd.hex(4)}` })
      const s = browse('ipv6_rotation', start, { net: home, requests: 1 })
      let t = s.end
      for (let i = 0; i < 10; i++) req((t += rnd.int(20_000, 3 * MIN)), s.me, v6())
      return s
    },
    corporate_egress: (start) => {
      const s = browse('corporate_egress', start, { net: CORPORATE[0]!, requests: 2 })
      let t = s.end
      for (let i = 0; i < 10; i++) req((t += rnd.int(20_000, 2 * MIN)), s.me, place(rnd.pick(CORPORATE)))
      return s
    },
    vpn_switched_on: (start) => {
      const s = browse('vpn_switched_on', start, { requests: 4 })
      let t = s.end
      for (let i = 0; i < 6; i++) req((t += rnd.int(20_000, 3 * MIN)), s.me, place(VPN))
      return s
    },
    travel: (start) => {
      const s = browse('travel', start, { requests: 4 })
      // Door to door across the world: a day or more later (a direct Paris–Tokyo flight alone is 14 h).
      let t = s.end + rnd.int(18, 36) * 3600_000
      for (let i = 0; i < 6; i++) req((t += rnd.int(20_000, 3 * MIN)), s.me, place(HOTEL))
      return s
    },
    cgnat: (start) => {
      const carrier = rnd.pick(CARRIERS)
      const s = browse('cgnat', start, { net: carrier, ua: PHONE, requests: 2 })
      let t = s.end
      for (let i = 0; i < 8; i++) req((t += rnd.int(20_000, 3 * MIN)), s.me, place(carrier))
      return s
    },
    service_account: (start) => {
      const subject = `svc-reporting-${rnd.hex(4)}`
      const session_id = `s-${rnd.hex(12)}`
      const me = { subject, session_id, token: `sa_${rnd.hex(32)}`, token_kind: 'service_account', user_agent: rnd.pick(TOOLS), client_id: 'reporting' }
      emit(start, { kind: 'ISSUE', action: 'token_grant', ...me, ...place(CLOUD[0]!) })
      let t = start
      for (let i = 0; i < 12; i++) req((t += rnd.int(5_000, 60_000)), me, place(rnd.pick(CLOUD)), { route: '/api/reports/{id}' })
      return { subject, session_id }
    },
    browser_upgrade: (start) => {
      const browser = rnd.pick(BROWSERS)
      const s = browse('browser_upgrade', start, { ua: browser.ua, requests: 4 })
      let t = s.end
      for (let i = 0; i < 5; i++) req((t += rnd.int(20_000, 3 * MIN)), { ...s.me, user_agent: browser.next }, s.where)
      return s
    },
    tabs_refreshing: (start) => {
      const s = browse('tabs_refreshing', start, { requests: 3 })
      let parent = `rt_${rnd.hex(32)}`
      emit(start + 1000, { kind: 'ISSUE', action: 'token_grant', subject: s.subject, session_id: s.session_id, token: parent, token_kind: 'refresh', user_agent: s.ua, device_id: s.device_id, ...s.where })
      let t = s.end
      for (let round = 0; round < 3; round++) {
        t += rnd.int(10 * MIN, 20 * MIN)
        // Three tabs present the same refresh token within a second; each is rotated.
        let child = ''
        for (let tab = 0; tab < 3; tab++) {
          child = `rt_${rnd.hex(32)}`
          emit(t + tab * rnd.int(50, 300), { kind: 'ISSUE', action: 'refresh', subject: s.subject, session_id: s.session_id, token: child, parent_token: parent, token_kind: 'refresh', user_agent: s.ua, device_id: s.device_id, ...s.where })
        }
        parent = child
      }
      return s
    },
    cloud_gateway: (start) => {
      // Half sign in at the office, through the gateway, and go home; half start at home and connect the gateway
      // agent later. The same laptop and browser throughout.
      const atOffice = rnd.next() < 0.5
      const gateway = () => pooled(CLOUD_GATEWAY, CLOUD_GATEWAY_BLOCKS)
      const s = browse('cloud_gateway', start, atOffice ? { requests: 4 } : { requests: 4 })
      if (atOffice) {
        emit(start - rnd.int(1_000, 60_000), { kind: 'ISSUE', action: 'login', amr: ['pwd', 'otp'], ...s.me, ...gateway() })
      }
      let t = s.end
      for (let i = 0; i < 6; i++) req((t += rnd.int(20_000, 3 * MIN)), s.me, gateway())
      return s
    },
    unlisted_vpn: (start) => {
      // A VPN whose exits no list knows: some of its users sign in through it, others switch it on mid-session.
      const s = browse('unlisted_vpn', start, { requests: 3 })
      const exit = pooled(UNLISTED_VPN, UNLISTED_VPN_BLOCKS)
      if (rnd.next() < 0.4) emit(start - rnd.int(1_000, 60_000), { kind: 'ISSUE', action: 'login', amr: ['pwd', 'otp'], ...s.me, ...exit })
      let t = s.end
      for (let i = 0; i < 6; i++) req((t += rnd.int(20_000, 3 * MIN)), s.me, exit)
      return s
    },
    request_after_logout: (start) => {
      const s = browse('request_after_logout', start, { requests: 5, logout: false })
      const logout = s.end + rnd.int(10_000, 60_000)
      emit(logout, { kind: 'REVOKE', action: 'logout', revoke_scope: 'session', ...s.me, ...s.where })
      req(logout + rnd.int(200, 1500), s.me, s.where)
      return s
    },
  }

  const attacks: Record<AttackKind, (start: number) => { subject: string; session_id: string; first: number }> = {
    infostealer_replay: (start) => {
      const s = browse('infostealer_replay', start, { logout: false })
      const thief = place(rnd.pick(ATTACKERS))
      // Replayed while the victim is still active, or hours later from the stealer log.
      const first = (rnd.next() < 0.5 ? s.uses[1]! : s.end + rnd.int(1, 6) * 3600_000) + rnd.int(MIN, 5 * MIN)
      const ua = rnd.pick(BROWSERS).ua
      for (let i = 0, t = first; i < 5; i++, t += rnd.int(5_000, 60_000)) req(t, { ...s.me, user_agent: ua, device_id: undefined }, thief)
      return { ...s, first }
    },
    phishing_proxy: (start) => {
      const s = browse('phishing_proxy', start, { requests: 2 })
      const proxy = place(rnd.pick(ATTACKERS.filter((a) => a.flags?.includes('hosting'))))
      const first = s.start + rnd.int(MIN, 8 * MIN)
      const ua = rnd.next() < 0.5 ? rnd.pick(TOOLS) : HEADLESS
      for (let i = 0, t = first; i < 6; i++, t += rnd.int(2_000, 30_000)) req(t, { ...s.me, user_agent: ua, device_id: undefined }, proxy)
      return { ...s, first }
    },
    residential_proxy: (start) => {
      const home = rnd.pick(HOMES.filter((h) => RESIDENTIAL_PROXY[h.country]))
      const s = browse('residential_proxy', start, { net: home, requests: 10 })
      const proxy = place(RESIDENTIAL_PROXY[home.country]!)
      // Copied user agent and device id, interleaved with the victim's own requests.
      const first = s.uses[2]! + 1_000
      for (let i = 2; i < s.uses.length - 1; i++) req(s.uses[i]! + rnd.int(1_000, 15_000), s.me, proxy)
      return { ...s, first }
    },
    refresh_token_theft: (start) => {
      const s = browse('refresh_token_theft', start, { requests: 4 })
      const stolen = `rt_${rnd.hex(32)}`
      emit(start + 1000, { kind: 'ISSUE', action: 'token_grant', subject: s.subject, session_id: s.session_id, token: stolen, token_kind: 'refresh', user_agent: s.ua, device_id: s.device_id, ...s.where })
      const rotated = start + rnd.int(10 * MIN, 20 * MIN)
      emit(rotated, { kind: 'ISSUE', action: 'refresh', subject: s.subject, session_id: s.session_id, token: `rt_${rnd.hex(32)}`, parent_token: stolen, token_kind: 'refresh', user_agent: s.ua, device_id: s.device_id, ...s.where })
      const first = rotated + rnd.int(5 * MIN, 60 * MIN)
      emit(first, { kind: 'ISSUE', action: 'refresh', subject: s.subject, session_id: s.session_id, token: `rt_${rnd.hex(32)}`, parent_token: stolen, token_kind: 'refresh', user_agent: rnd.pick(TOOLS), ...place(rnd.pick(ATTACKERS)) })
      return { ...s, first }
    },
    stale_edge_after_logout: (start) => {
      const s = browse('stale_edge_after_logout', start, { requests: 4 })
      const logout = s.end + rnd.int(10_000, 60_000)
      emit(logout, { kind: 'REVOKE', action: 'logout', revoke_scope: 'session', ...s.me, ...s.where })
      const thief = place(rnd.pick(ATTACKERS))
      const first = logout + rnd.int(2 * MIN, 30 * MIN)
      let t = first
      for (let i = 0; i < 3; i++) {
        req(t, { ...s.me, user_agent: rnd.pick(BROWSERS).ua, device_id: undefined }, thief, { validator: 'edge-stale' })
        t += rnd.int(5_000, 60_000)
      }
      return { ...s, first }
    },
    session_fixation: (start) => {
      const session_id = `s-${rnd.hex(12)}`
      const attacker = place(rnd.pick(ATTACKERS))
      const attackerUa = rnd.pick(BROWSERS).ua
      const cookie = `sc_${rnd.hex(32)}`
      // The attacker obtains an anonymous session id and plants it on the victim.
      emit(start, { kind: 'VALIDATE', action: 'request', session_id, token: cookie, token_kind: 'session_cookie', user_agent: attackerUa, route: '/login', status: 200, result: 'OK', validator: 'edge-1', ...attacker })
      const home = rnd.pick(HOMES)
      const subject = `u${rnd.hex(8)}@acme.example`
      const victim = { subject, session_id, token: cookie, token_kind: 'session_cookie', user_agent: rnd.pick(BROWSERS).ua, device_id: `d-${rnd.hex(8)}` }
      const where = place(home)
      const login = start + rnd.int(MIN, 30 * MIN)
      emit(login, { kind: 'ISSUE', action: 'login', amr: ['pwd'], ...victim, ...where })
      let t = login
      for (let i = 0; i < 4; i++) req((t += rnd.int(20_000, 2 * MIN)), victim, where)
      const first = login + rnd.int(MIN, 10 * MIN)
      req(first, { subject, session_id, token: cookie, token_kind: 'session_cookie', user_agent: attackerUa }, attacker)
      req(first + rnd.int(5_000, 60_000), { subject, session_id, token: cookie, token_kind: 'session_cookie', user_agent: attackerUa }, attacker)
      // The attack begins when the attacker mints the identifier it plants.
      return { subject, session_id, first: start }
    },
    low_and_slow: (start) => {
      const s = browse('low_and_slow', start, { requests: 6 })
      const thief = place(rnd.pick(ATTACKERS))
      let t = s.start + rnd.int(20 * MIN, 40 * MIN)
      const first = t
      for (let i = 0; i < 6; i++) {
        req(t, s.me, thief)
        t += rnd.int(15 * MIN, 25 * MIN)
      }
      return { ...s, first }
    },
    bulk_scraping: (start) => {
      const s = browse('bulk_scraping', start, { requests: 6 })
      const thief = place(rnd.pick(ATTACKERS))
      const first = s.end + rnd.int(5 * MIN, 60 * MIN)
      const ua = rnd.pick(TOOLS)
      for (let i = 0, t = first; i < 120; i++, t += rnd.int(200, 1500)) req(t, { ...s.me, user_agent: ua }, thief, { route: i % 10 === 0 ? '/api/export' : '/api/contacts/{id}', method: 'GET' })
      return { ...s, first }
    },
  }

  const span = 20 * 3600_000
  for (let i = 0; i < options.honestSessions; i++) {
    const label = NOISE_KINDS[i % NOISE_KINDS.length]!
    const s = honest[label](options.startMs + rnd.int(0, span))
    sessions.push({ session_id: s.session_id, subject: s.subject, label, attack: false })
  }
  for (const kind of ATTACK_KINDS) {
    for (let i = 0; i < options.attacksPerKind; i++) {
      const s = attacks[kind](options.startMs + rnd.int(0, span))
      sessions.push({ session_id: s.session_id, subject: s.subject, label: kind, attack: true, first_malicious_ts: iso(s.first) })
    }
  }
  out.sort((a, b) => a.ts - b.ts)
  return { lines: out.map((o) => o.line), sessions }
}
