import { createHash } from 'node:crypto'
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import Module, { createRequire } from 'node:module'
import path from 'node:path'
import vm from 'node:vm'
import type { CodeCacheUse } from './code-cache-notice.js'

// The bundled server (dist/server.bundle.js, scripts/bundle.mjs) started with a V8 code cache: the bytecode
// of the functions its start-up runs, written when it is built, so that starting compiles almost nothing
// (bench/results.md, step 16). The cache is used only for the exact bundle and V8 it was written for.
//
// The bundle is CommonJS code inside the function Node's own loader would wrap it in, written so on disk
// (wrapBundle): V8 compiles the file's text as it is read, where wrapping it when loading made a second
// copy of its 3 MB (about 4 MB of RSS after start, measured, with the text in ASCII as bundle.mjs writes it).

export interface LoadedBundle {
  exports: Record<string, unknown>
  codeCache: CodeCacheUse
}

/** Imports an ES module for the bundle: `specifier => import(specifier)`, written in the bundle's loader. */
export type ImportExternal = (specifier: string) => Promise<unknown>

/**
 * The parameters of the function a bundle is: Node's CommonJS wrapper's, and `importExternal`. Its code
 * cannot use import() (V8 would ask Node for a loader that Node has only as an experiment, with a warning).
 */
const PARAMETERS = ['exports', 'require', 'module', '__filename', '__dirname', 'importExternal']

/**
 * A bundle's file: its CommonJS `code` as the body of a function of PARAMETERS. On the first line with the
 * code's, so that a stack trace's line numbers are the code's (and its source map's).
 */
export function wrapBundle (code: string): string {
  return `(function (${PARAMETERS.join(', ')}) {${code}\n})`
}

type BundleFunction = (...args: unknown[]) => void

/** Where the code cache of `bundleFile` is kept: next to it. */
export function codeCacheFile (bundleFile: string): string {
  return `${bundleFile}.cache`
}

// A cache file: one line of JSON naming what it was written for, then V8's data. V8 checks only the
// source's length, so the SHA-256 of the bundle is what keeps a changed bundle from running stale bytecode;
// V8 does not check its data either (a flipped bit can run altered bytecode, or end the process), so the
// data's own SHA-256 is there too.
interface CacheHeader { v8: string, sha256: string, data: string }

const sha256 = (bytes: string | Buffer): string => createHash('sha256').update(bytes).digest('hex')

/**
 * V8's data in the cache file when it is whole and was written for this very bundle and this V8, else
 * undefined (also when it is missing or cannot be read: a start goes on without it).
 */
function fittingCache (cacheFile: string, source: string): Buffer | undefined {
  try {
    const file = readFileSync(cacheFile)
    const newline = file.indexOf(10)
    if (newline === -1) return undefined
    const data = file.subarray(newline + 1)
    const written = JSON.parse(file.subarray(0, newline).toString('utf8')) as Partial<CacheHeader>
    return written.v8 === process.versions.v8 && written.sha256 === sha256(source) && written.data === sha256(data) ? data : undefined
  } catch {
    return undefined
  }
}

/** Whether `bundleFile` has a code cache written for it and for this V8 (scripts/ensure-built.mjs asks). */
export function codeCacheFits (bundleFile: string): boolean {
  return fittingCache(codeCacheFile(bundleFile), readFileSync(bundleFile, 'utf8')) !== undefined
}

function bundleFunction (bundleFile: string, value: unknown): BundleFunction {
  if (typeof value !== 'function') throw new Error(`${bundleFile} is not a bundle as scripts/bundle.mjs writes one (a function expression)`)
  return value as BundleFunction
}

/** Runs the bundle's function as Node runs a CommonJS module: `require` is Node's, relative to the bundle. */
function runAsCommonJs (bundleFile: string, bundle: BundleFunction, importExternal: ImportExternal | undefined): Record<string, unknown> {
  const module = { exports: {} as Record<string, unknown> }
  bundle.call(module.exports, module.exports, createRequire(bundleFile), module, bundleFile, path.dirname(bundleFile), importExternal)
  return module.exports
}

/**
 * Through Node's module loader, which maps stack traces with the source map the file names: its text made
 * a module that exports the function (Module#_compile, as Node's loader calls it), which imports ES modules
 * itself (importExternal is left undefined).
 */
function loadWithSourceMaps (bundleFile: string): LoadedBundle {
  const compiler = new Module(bundleFile) as Module & { _compile: (code: string, file: string) => void }
  compiler.filename = bundleFile
  compiler._compile(`module.exports = ${readFileSync(bundleFile, 'utf8')}`, bundleFile)
  return { exports: runAsCommonJs(bundleFile, bundleFunction(bundleFile, compiler.exports), undefined), codeCache: 'source-maps' }
}

/** Compiles the bundle, with the cached bytecode when it fits, and runs it. */
function compileAndRun (bundleFile: string, source: string, cachedData: Buffer | undefined, importExternal: ImportExternal): { script: vm.Script, exports: Record<string, unknown> } {
  const script = new vm.Script(source, { filename: bundleFile, ...(cachedData === undefined ? {} : { cachedData }) })
  return { script, exports: runAsCommonJs(bundleFile, bundleFunction(bundleFile, script.runInThisContext()), importExternal) }
}

/** Loads the bundle, with its code cache where one fits (see CodeCacheUse). */
export function loadBundle (bundleFile: string, importExternal: ImportExternal): LoadedBundle {
  if (process.sourceMapsEnabled) return loadWithSourceMaps(bundleFile)
  const source = readFileSync(bundleFile, 'utf8')
  const cacheFile = codeCacheFile(bundleFile)
  const cachedData = fittingCache(cacheFile, source)
  const { script, exports } = compileAndRun(bundleFile, source, cachedData, importExternal)
  const codeCache: CodeCacheUse = cachedData !== undefined ? (script.cachedDataRejected === true ? 'rejected' : 'used') : existsSync(cacheFile) ? 'stale' : 'none'
  return { exports, codeCache }
}

/**
 * Writes the code cache of `bundleFile`: the bytecode of everything its loading ran (the modules' top-level
 * code), then whatever `warmUp` (given its exports) runs. Written whole (synced, then renamed into place) or
 * not at all; returns its path.
 */
export async function writeCodeCache (bundleFile: string, importExternal: ImportExternal, warmUp: (exports: Record<string, unknown>) => Promise<void> = async () => {}): Promise<string> {
  const source = readFileSync(bundleFile, 'utf8')
  const { script, exports } = compileAndRun(bundleFile, source, undefined, importExternal)
  await warmUp(exports)
  const data = script.createCachedData()
  const header: CacheHeader = { v8: process.versions.v8, sha256: sha256(source), data: sha256(data) }
  const cacheFile = codeCacheFile(bundleFile)
  const partial = `${cacheFile}.${process.pid}.tmp`
  try {
    const fd = openSync(partial, 'w')
    try {
      writeFileSync(fd, Buffer.concat([Buffer.from(`${JSON.stringify(header)}\n`), data]))
      fsyncSync(fd)
    } finally {
      closeSync(fd)
    }
    renameSync(partial, cacheFile)
  } catch (err) {
    rmSync(partial, { force: true })
    throw err
  }
  return cacheFile
}
