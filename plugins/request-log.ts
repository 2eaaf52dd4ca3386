import fp from 'fastify-plugin'

// One log line per request, when it completes (Fastify's default is two: on arrival and on completion).
// Routes with their own logLevel (probes, metrics) are quiet as before.
export default fp(async function requestLogPlugin (fastify) {
  fastify.addHook('onResponse', (request, reply, done) => {
    request.log.info({ req: request, res: reply, responseTime: Math.round(reply.elapsedTime * 100) / 100 }, 'request completed')
    done()
  })
}, { name: 'request-log' })
