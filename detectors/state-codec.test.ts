import assert from 'node:assert/strict'
import { test } from 'node:test'
import { StateCodec, Unfreezable } from './state-codec.js'
import { Symbols } from './text-store.js'

const UA = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36'
const T = Date.parse('2026-11-20T08:00:00Z')

function roundTrip(values: unknown[], symbols = new Symbols()): { back: unknown[]; bytes: number } {
  const codec = new StateCodec(symbols)
  codec.begin()
  for (const v of values) codec.write(v)
  const bytes = Buffer.from(codec.finish())
  codec.open(bytes, 0, bytes.length, true)
  const back: unknown[] = []
  while (!codec.done) back.push(codec.read())
  return { back, bytes: bytes.length }
}

test('detector states come back equal, undefined properties, -0, NaN and times included', () => {
  const state = {
    subject: null, revocations: [], last: T + 2000, missing: undefined, ok: true, stateless: false,
    buckets: [{
      cred: 's:102AbCdEfGhIjKlMnOpQrStUv', session_id: '102AbCdEfGhIjKlMnOpQrStUv', token_fp: 'tfp_' + 'ab'.repeat(20),
      first: T + 1000, first_id: '0f8fad5b-d9cb-469f-a165-70867728950e', earlier: T - 5000,
      use: { id: '0f8fad5b-d9cb-469f-a165-70867728950e', ip: '2001:db8::1', asn: 7922, lat: 39.74, lon: -104.99, device: 'cd'.repeat(16), ua: UA },
    }],
    numbers: [0, -0, 1, -1, 127, 128, -129, 2 ** 40, -(2 ** 51), 2 ** 53, 0.1, Number.NaN, Number.POSITIVE_INFINITY, -1e300],
    texts: ['', 'a', 'Zürich, CH', '東京', '😀 emoji', 'x:', 'u:', 'a:b', 'ABCDEF', 'abc', 'tfp_', 'tfp_abc'],
    latency: { 'edge-1': 1200, 'cdn:eu': 3400 },
    hits: { 's:102AbCdEfGhIjKlMnOpQrStUv': 0.8 },
  }
  const { back } = roundTrip([state, [[T], { nested: { deeper: [null, undefined, {}] } }]])
  assert.deepStrictEqual(back, [state, [[T], { nested: { deeper: [null, undefined, {}] } }]])
  const numbers = (back[0] as typeof state).numbers
  assert.ok(Object.is(numbers[1], -0), '-0 stays -0')
  assert.ok('missing' in (back[0] as object), 'an undefined property is still there')
})

test('strings repeated within one group cost a back-reference, and prefixed keys share their rest', () => {
  const id = '0f8fad5b-d9cb-469f-a165-70867728950e'
  const session = '102AbCdEfGhIjKlMnOpQrStUv'
  const once = roundTrip([{ a: id }]).bytes
  const twice = roundTrip([{ a: id, b: id }]).bytes
  assert.ok(twice - once <= 3, `the second copy costs ${twice - once} bytes`)
  const key = roundTrip([['s:' + session]]).bytes
  const keyAndSession = roundTrip([['s:' + session, session]]).bytes
  assert.ok(keyAndSession - key <= 3, `the session after its key costs ${keyAndSession - key} bytes`)
  // A UUID is its 16 bytes, a token fingerprint its 20, not their characters.
  assert.ok(once < 24, `a UUID property costs ${once} bytes`)
})

test('strings the symbol table knows are held while the bytes live and given back when read to thaw', () => {
  const symbols = new Symbols(1)
  const id = symbols.id(UA)
  const codec = new StateCodec(symbols)
  codec.begin()
  codec.write({ ua: UA })
  const bytes = Buffer.from(codec.finish())
  assert.ok(bytes.length < 8, 'the user agent is its symbol id')
  symbols.collect()
  assert.equal(symbols.lookup(UA), id, 'held by the frozen bytes: not reclaimed')
  // Reading for a checkpoint copy holds on.
  codec.open(bytes, 0, bytes.length, false)
  const copy = codec.read() as { ua: string }
  assert.equal(copy.ua, UA)
  symbols.collect()
  assert.equal(symbols.lookup(UA), id)
  // Reading to thaw gives the id back: nobody holds it, the table may reclaim it.
  codec.open(bytes, 0, bytes.length, true)
  assert.deepEqual(codec.read(), { ua: UA })
  symbols.collect()
  assert.equal(symbols.lookup(UA), 0)
})

test('what is not plain JSON data is refused, and an abandoned list holds no symbol', () => {
  const symbols = new Symbols(1)
  symbols.id(UA)
  const codec = new StateCodec(symbols)
  for (const bad of [new Map(), new Date(0), () => 1, 10n, '\ud800 lone surrogate', Symbol('x')]) {
    codec.begin()
    codec.write({ ua: UA })
    assert.throws(() => codec.write({ bad }), Unfreezable)
    codec.abandon()
  }
  symbols.collect()
  assert.equal(symbols.lookup(UA), 0, 'every hold was given back')
})

test('random JSON values survive the round trip', () => {
  let seed = 7
  // Park–Miller: products stay below 2^53, so the sequence is exact.
  const rnd = () => (seed = (seed * 48271) % 2147483647) / 2147483647
  const pick = <T>(xs: T[]) => xs[Math.floor(rnd() * xs.length)]!
  const strings = ['s:abc123XYZ', 't:tfp_00ff', 'edge-1', UA, '0f8fad5b-d9cb-469f-a165-70867728950e', 'deadbeef', 'Ünïcødé', '']
  function value(depth: number): unknown {
    switch (Math.floor(rnd() * (depth > 3 ? 5 : 8))) {
      case 0: return null
      case 1: return rnd() < 0.5
      case 2: return pick([Math.floor(rnd() * 1e6) - 5e5, rnd() * 100, T + Math.floor(rnd() * 1e8) - 5e7, 2 ** 45])
      case 3: return pick(strings) + (rnd() < 0.3 ? String(Math.floor(rnd() * 100)) : '')
      case 4: return undefined
      case 5: return Array.from({ length: Math.floor(rnd() * 4) }, () => value(depth + 1))
      default: {
        const o: Record<string, unknown> = {}
        for (let i = Math.floor(rnd() * 5); i > 0; i--) o[pick(['a', 'b', 'last', 's:key', 'edge-1', 'x y'])] = value(depth + 1)
        return o
      }
    }
  }
  const symbols = new Symbols()
  symbols.id('edge-1')
  for (let i = 0; i < 500; i++) {
    const values = [value(0), value(0), value(0)]
    assert.deepStrictEqual(roundTrip(values, symbols).back, values)
  }
})

test('a short string that keeps coming back becomes a symbol, given back like the others', () => {
  const symbols = new Symbols(1)
  const codec = new StateCodec(symbols)
  const sizes: number[] = []
  const blobs: Buffer[] = []
  for (let i = 0; i < 6; i++) {
    codec.begin()
    codec.write({ validator: 'edge-frankfurt-1', route: '/api/v2/inbox' })
    blobs.push(Buffer.from(codec.finish()))
    sizes.push(blobs.at(-1)!.length)
  }
  assert.ok(sizes.at(-1)! < sizes[0]! - 20, `text at first (${sizes[0]} bytes), symbols later (${sizes.at(-1)} bytes)`)
  assert.notEqual(symbols.lookup('edge-frankfurt-1'), 0)
  for (const bytes of blobs) {
    codec.open(bytes, 0, bytes.length, true)
    assert.deepEqual(codec.read(), { validator: 'edge-frankfurt-1', route: '/api/v2/inbox' })
  }
  symbols.collect()
  assert.equal(symbols.lookup('edge-frankfurt-1'), 0, 'no frozen bytes hold it any more')
})

test('an object repeating most properties of the previous one of its shape costs little more than what differs', () => {
  const use = (id: string, ts: number) => ({ id, ts, ip: '73.0.0.1', prefix: '73.0.0.0/24', asn: 7922, net: 'org:comcast', place: 'Denver, US', ua: UA, device: 'cd'.repeat(16) })
  const one = [use('0f8fad5b-d9cb-469f-a165-70867728950e', T)]
  const two = [...one, use('1f8fad5b-d9cb-469f-a165-70867728950e', T + 1000)]
  const nested = [{ origin: one[0], last: two[1], other: { ...two[1], ip: '2001:db8::1', extra: [two[0]] } }]
  for (const values of [two, nested, [[use('a', T), { ...use('b', T), asn: Number.NaN }, { ...use('c', T), asn: -0 }, use('d', T)]]]) {
    assert.deepStrictEqual(roundTrip(values).back, values)
  }
  const second = roundTrip(two).bytes - roundTrip(one).bytes
  // The id (16 bytes and its tag and length), the time delta, a shape id and a mask; not the address, prefix,
  // device and the rest again.
  assert.ok(second <= 26, `the second use costs ${second} bytes`)
  assert.ok(second < roundTrip(one).bytes / 2, `the second use costs ${second} bytes, the first ${roundTrip(one).bytes}`)
  const back = roundTrip([[{ ...use('a', T), asn: -0 }, { ...use('b', T), asn: 0 }]]).back[0] as { asn: number }[]
  assert.ok(Object.is(back[0]!.asn, -0) && Object.is(back[1]!.asn, 0), '-0 and 0 are told apart')
})

test('numbers with a few decimal places and dotted-quad addresses cost a few bytes, and everything else comes back exact', () => {
  const decimals = [39.74, -104.99, 0.1, 0.8, 1e-7, -0.5, 52.370216, 123.4567891, 0.30000000000000004, 2 ** -1074, 1e20 + 0.5, Math.PI]
  assert.deepStrictEqual(roundTrip([decimals]).back, [decimals])
  assert.ok(roundTrip([39.74]).bytes <= 4, `a coordinate costs ${roundTrip([39.74]).bytes} bytes`)
  assert.equal(roundTrip([Math.PI]).bytes, 9, 'a number with many places is its 8 bytes')
  const addresses = ['73.14.1.10', '0.0.0.0', '255.255.255.255', '01.2.3.4', '1.2.3', '256.1.1.1', '1.2.3.4.5', '1.2.3.', '1..2.3', '2001:db8::1', '1.2.3.4 ']
  assert.deepStrictEqual(roundTrip([addresses]).back, [addresses])
  assert.equal(roundTrip(['73.14.1.10']).bytes, 5, 'an IPv4 address is its 4 bytes')
  assert.equal(roundTrip([['73.14.1.10', '73.14.1.10']]).bytes, 2 + 5 + 2, 'and a back-reference the second time')
})
