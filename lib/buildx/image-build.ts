import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises'
import path from 'node:path'
import { runProcess, type GroupTracker, type Stream } from '../process/run-process.js'
import { buildArgv, type ImageBuildSpec } from './build-argv.js'
import type { FailureReason } from '../schemas/build.js'
import { classifyFailure } from './failure.js'

/** How a docker child of a build runs: its environment, what stops it, where its group and output go. */
export interface DockerChildOptions {
  /** The docker child's whole environment (with GIT_AUTH_TOKEN for a build's git context when it has a credential). */
  env: Record<string, string>
  signal: AbortSignal
  killGraceMs?: number
  /** Records the docker child's process group while it runs. */
  groups?: GroupTracker
  onLine: (line: string, stream: Stream) => void
}

export interface ImageBuildOptions extends DockerChildOptions {
  spec: Omit<ImageBuildSpec, 'metadataFile'>
  endpoint: string
  /** Where the build's temporary files go (DATA_DIR/tmp: cleared at start-up, so a crash leaves nothing). */
  tmpRoot: string
}

export interface ImageBuildResult {
  status: 'succeeded' | 'failed' | 'cancelled'
  digest: string | null
  durationMs: number
  error: string | null
  /** Why it failed (null when it succeeded or was interrupted: the interrupter knows why). */
  reason: FailureReason | null
}

// Enough of the output to explain a failure (the step's last lines and buildx's ERROR lines).
const TAIL_LINES = 200

/** Builds and pushes one image with `docker buildx build`, reading the pushed digest from the metadata file. */
export async function buildImage (options: ImageBuildOptions): Promise<ImageBuildResult> {
  const started = performance.now()
  await mkdir(options.tmpRoot, { recursive: true })
  const dir = await mkdtemp(path.join(options.tmpRoot, 'build-'))
  const metadataFile = path.join(dir, 'metadata.json')
  const tail: string[] = []
  try {
    const result = await runProcess('docker', buildArgv({ ...options.spec, metadataFile }), {
      env: options.env,
      signal: options.signal,
      killGraceMs: options.killGraceMs,
      groups: options.groups,
      onLine: (line, stream) => {
        tail.push(line)
        if (tail.length > TAIL_LINES) tail.shift()
        options.onLine(line, stream)
      }
    })
    const durationMs = Math.round(performance.now() - started)
    if (result.aborted) return { status: 'cancelled', digest: null, durationMs, error: null, reason: null }
    if (result.code !== 0) {
      const failure = classifyFailure(result, tail, {
        endpoint: options.endpoint,
        repositoryUrl: options.spec.repositoryUrl,
        commit: options.spec.commit,
        location: options.spec.image.location
      })
      return { status: 'failed', digest: null, durationMs, error: failure.message, reason: failure.reason }
    }
    const digest = await readDigest(metadataFile)
    if (digest === null) return { status: 'failed', digest: null, durationMs, error: 'buildx reported success but wrote no image digest', reason: 'no-digest' }
    return { status: 'succeeded', digest, durationMs, error: null, reason: null }
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

async function readDigest (file: string): Promise<string | null> {
  try {
    const metadata = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>
    const digest = metadata['containerimage.digest']
    return typeof digest === 'string' && /^sha256:[0-9a-f]{64}$/.test(digest) ? digest : null
  } catch {
    return null
  }
}
