import { createHash, timingSafeEqual } from 'node:crypto'
import type { FastifyReply, FastifyRequest } from 'fastify'

/** A fastify preHandler that admits only `Authorization: Bearer <token>`, compared in constant time. */
export function requireBearer(token: string) {
  const expected = createHash('sha256').update(token).digest()
  return async function checkBearer(request: FastifyRequest, reply: FastifyReply) {
    const header = request.headers.authorization ?? ''
    const m = /^Bearer\s+(\S+)$/i.exec(header)
    const given = createHash('sha256').update(m?.[1] ?? '').digest()
    if (!m || !timingSafeEqual(given, expected)) {
      reply.header('www-authenticate', 'Bearer').code(401).send({ error: 'unauthorized' })
      return reply
    }
  }
}
