/** The logger lib/ modules write to: pino's shape (Fastify's logger, or a child of it), nothing more. */
export interface Log {
  error: (obj: object, msg?: string) => void
  warn: (obj: object, msg?: string) => void
  info: (obj: object, msg?: string) => void
  debug: (obj: object, msg?: string) => void
  child: (bindings: Record<string, unknown>) => Log
}
