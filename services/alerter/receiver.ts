import { createServer, type Server } from 'node:http'
import { IDEMPOTENCY_HEADER, verifySignature } from './signature.js'

export interface ReceivedAlert {
  idempotencyKey: string
  body: Record<string, unknown>
  attempt: number
}

/**
 * A webhook receiver as a careful on-call integration would write it: verifies the signature and the
 * timestamp, acts once per idempotency key, answers 2xx for repeats. Used by the demo and the tests.
 */
export async function startWebhookReceiver(options: { secret: string; port?: number; maxBodyBytes?: number; now?: () => number }) {
  const now = options.now ?? (() => Date.now())
  const maxBody = options.maxBodyBytes ?? 1024 * 1024
  const accepted: ReceivedAlert[] = []
  const seen = new Set<string>()
  const rejected: string[] = []
  let requests = 0
  const server: Server = createServer((req, res) => {
    requests++
    const chunks: Buffer[] = []
    let size = 0
    req.on('data', (chunk: Buffer) => {
      size += chunk.length
      if (size > maxBody) {
        res.writeHead(413).end()
        req.destroy()
      } else chunks.push(chunk)
    })
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8')
      const verdict = verifySignature(options.secret, req.headers, body, Math.floor(now() / 1000))
      if (!verdict.ok) {
        rejected.push(verdict.reason)
        res.writeHead(401).end(JSON.stringify({ error: verdict.reason }))
        return
      }
      const key = String(req.headers[IDEMPOTENCY_HEADER] ?? '')
      if (!seen.has(key)) {
        seen.add(key)
        accepted.push({ idempotencyKey: key, body: JSON.parse(body), attempt: Number(req.headers['x-sessionwatch-attempt'] ?? 1) })
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}')
    })
  })
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve))
  const address = server.address()
  const port = typeof address === 'object' && address ? address.port : 0
  return {
    url: `http://127.0.0.1:${port}/hooks/sessionwatch`,
    accepted,
    rejected,
    get requests() {
      return requests
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}

export type WebhookReceiver = Awaited<ReturnType<typeof startWebhookReceiver>>

export interface RecordedRequest {
  method: string
  path: string
  headers: Record<string, string | string[] | undefined>
  body: string
}

/**
 * A plain HTTP endpoint that records every request and answers what `respond` says (status, or a promise of
 * one to hold the answer back). Stands in for PagerDuty, Slack, an IdP or an SSF receiver in the tests.
 */
export async function startRecordingServer(respond: (r: RecordedRequest, index: number) => number | Promise<number> = () => 200) {
  const requests: RecordedRequest[] = []
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const recorded = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') }
      requests.push(recorded)
      Promise.resolve(respond(recorded, requests.length - 1)).then(
        (status) => res.writeHead(status, { 'content-type': 'application/json' }).end(status < 300 ? '{"ok":true}' : '{"error":"refused"}'),
        () => res.destroy(),
      )
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  const port = typeof address === 'object' && address ? address.port : 0
  return {
    url: (path = '/') => `http://127.0.0.1:${port}${path}`,
    requests,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections()
      server.close(() => resolve())
    }),
  }
}
