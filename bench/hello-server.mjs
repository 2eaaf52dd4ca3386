// The baseline: a bare Fastify server answering {"hello":"world"}, run the same way as the hook.
import Fastify from 'fastify'

const app = Fastify({ logger: false })
app.get('/', async () => ({ hello: 'world' }))
const url = await app.listen({ host: '127.0.0.1', port: 0 })
process.stdout.write(`listening ${url}\n`)
process.on('SIGTERM', () => { void app.close().then(() => process.exit(0)) })
