// The floor's work (bench/floor-work.mjs) done by a bare Fastify 5 server, logging as Fastify does by default
// at LOG_LEVEL=info (a line when a request comes in, one when it is answered): what the service's fixed design
// (Fastify, pino, a log line per request) costs before the hook does anything of its own. bench/run.ts reports
// it against the floor, next to the hook.
// Env: FLOOR_SECRET, FLOOR_DB (the SQLite file). Prints `listening http://127.0.0.1:<port>`.
import Fastify from 'fastify'
import { openDeliveries, verified } from './floor-work.mjs'

const secret = process.env.FLOOR_SECRET
const deliveries = openDeliveries(process.env.FLOOR_DB)
const app = Fastify({ logger: { level: 'info' } })
// As the hook: the body is kept as bytes, for the signature over exactly what was sent.
app.removeAllContentTypeParsers()
app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_request, body, done) => done(null, body))
app.post('/:slug', async (request, reply) => {
  if (!verified(request.body, request.headers['x-hub-signature-256'], secret)) return reply.code(401).send({ message: 'invalid webhook signature' })
  let push
  try {
    push = JSON.parse(request.body.toString('utf8'))
  } catch {
    return reply.code(400).send({ message: 'invalid JSON' })
  }
  const delivery = request.headers['x-github-delivery']
  if (typeof delivery !== 'string' || typeof push.ref !== 'string' || typeof push.after !== 'string') return reply.code(400).send({ message: 'not a push' })
  const inserted = await new Promise(resolve => deliveries.record(delivery, push.ref, push.after, resolve))
  return reply.code(inserted ? 202 : 200).send(inserted ? { status: 'queued' } : { duplicate: true })
})
const url = await app.listen({ host: '127.0.0.1', port: 0 })
// Fastify logs its own "Server listening at": the line below is the one bench/run.ts waits for.
process.stdout.write(`listening ${url}\n`)
process.on('SIGTERM', () => { void app.close().then(() => { deliveries.close(); process.exit(0) }) })
