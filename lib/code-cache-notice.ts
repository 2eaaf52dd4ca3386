// What the server says at start-up about how its bundle was loaded (lib/code-cache.ts loads it): a code
// cache that does not fit costs start-up time only, so it is said once, with what to do about it. A warning
// where the build went wrong; information where Node.js flags were chosen (--max-old-space-size...).

/**
 * How the bundle was loaded:
 * - `used`: with its code cache;
 * - `none`: there is no cache next to it;
 * - `stale`: the cache was written for another bundle or another V8, or is damaged (a rebuild writes a new one);
 * - `rejected`: V8 refused it (V8 flags other than when it was written);
 * - `source-maps`: Node's own module loader, without the cache, so that stack traces name the sources
 *   (`node --enable-source-maps`: Node maps only the files it loads itself).
 */
export type CodeCacheUse = 'used' | 'none' | 'stale' | 'rejected' | 'source-maps'

export interface CodeCacheNotice { level: 'warn' | 'info', message: string }

const NOTICES: Partial<Record<CodeCacheUse, CodeCacheNotice>> = {
  none: { level: 'warn', message: 'The bundled server has no code cache next to it: it starts slower until `npm run build` writes one.' },
  stale: { level: 'warn', message: 'The code cache next to the bundled server was written for another build or another Node.js, or is damaged: it starts slower until `npm run build` writes a new one.' },
  rejected: { level: 'info', message: 'V8 refused the code cache next to the bundled server: it was written without the Node.js flags given now (such as --max-old-space-size), so the server starts slower.' }
}

/** What the server logs at start-up about how its code cache was used, if anything. */
export function codeCacheNotice (use: CodeCacheUse): CodeCacheNotice | undefined {
  return NOTICES[use]
}

/** The part of a logger (pino's) that logCodeCacheUse writes to. */
export interface NoticeLog {
  warn: (fields: object, message: string) => void
  info: (fields: object, message: string) => void
}

/** Logs the notice for `use`, if there is one; nothing when the server runs from its sources (undefined). */
export function logCodeCacheUse (log: NoticeLog, use: CodeCacheUse | undefined): void {
  const notice = use === undefined ? undefined : codeCacheNotice(use)
  if (notice !== undefined) log[notice.level]({ codeCache: use }, notice.message)
}
