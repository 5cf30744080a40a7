// A local HTTP server that answers like Slack's Web API method chat.postMessage: bearer token checked, JSON body,
// HTTP 200 with {"ok": true, "channel", "ts", "message"} on success and {"ok": false, "error"} on failure (Slack
// answers most failures with 200 too). Each posted message gets a fresh ts; replies name their parent in thread_ts.
import { createServer, type Server } from 'node:http'

export interface PostedMessage {
  channel: string
  ts: string
  thread_ts?: string
  text: string
  body: Record<string, unknown>
  authorization: string | undefined
}

export async function startSlackApi(options: { token: string; fail?: (index: number) => string | undefined }) {
  const posted: PostedMessage[] = []
  const refused: string[] = []
  let counter = 0
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const answer = (body: object) => res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' }).end(JSON.stringify(body))
      if (req.url !== '/api/chat.postMessage' || req.method !== 'POST') return void res.writeHead(404).end('{"ok":false,"error":"unknown_method"}')
      if (req.headers.authorization !== `Bearer ${options.token}`) {
        refused.push('invalid_auth')
        return answer({ ok: false, error: 'invalid_auth' })
      }
      let body: Record<string, unknown>
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8'))
      } catch {
        return answer({ ok: false, error: 'invalid_json' })
      }
      const failure = options.fail?.(counter)
      if (failure) {
        counter++
        refused.push(failure)
        return answer({ ok: false, error: failure })
      }
      if (typeof body.channel !== 'string' || !body.channel) return answer({ ok: false, error: 'channel_not_found' })
      if (typeof body.thread_ts === 'string' && !posted.some((p) => p.ts === body.thread_ts)) return answer({ ok: false, error: 'thread_not_found' })
      counter++
      const ts = `${Math.floor(Date.now() / 1000)}.${String(counter).padStart(6, '0')}`
      const message = { channel: body.channel, ts, thread_ts: body.thread_ts as string | undefined, text: String(body.text ?? ''), body, authorization: req.headers.authorization }
      posted.push(message)
      answer({ ok: true, channel: body.channel, ts, message: { type: 'message', text: message.text, ts, ...(message.thread_ts ? { thread_ts: message.thread_ts } : {}) } })
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  const port = typeof address === 'object' && address ? address.port : 0
  return {
    url: `http://127.0.0.1:${port}/api/chat.postMessage`,
    posted,
    refused,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections()
      server.close(() => resolve())
    }),
  }
}
