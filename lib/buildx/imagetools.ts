import { runProcess } from '../process/run-process.js'
import { classifyRetagFailure } from './failure.js'
import type { DockerChildOptions, ImageBuildResult } from './image-build.js'

export interface RetagSpec {
  /** The buildx builder whose registry configuration to use (imagetools never dials its BuildKit). */
  builder: string
  /** The image to point the tag back at: `<registry>/<repository>@sha256:<hex>`. */
  source: string
  /** The tag to move: `<registry>/<repository>:<tag>`. */
  tag: string
}

/** The registry credentials come from the child's Docker config, as for a build's push. */
export interface RetagOptions extends DockerChildOptions {
  spec: RetagSpec
}

/**
 * The argv (after `docker`) that points a tag at an image already in the registry. --prefer-index=false:
 * with the default (true) buildx wraps a single image manifest in a new index, so the tag would get a digest
 * of its own; with false it is a carbon copy, and the tag resolves to exactly the source's digest.
 */
export function imagetoolsCreateArgv (spec: RetagSpec): string[] {
  return ['buildx', 'imagetools', 'create', '--builder', spec.builder, '--progress=plain', '--prefer-index=false', '-t', spec.tag, spec.source]
}

/** Points a tag back at an image the registry still holds (a rollback of a mutable tag) with `docker buildx imagetools create`. */
export async function retagImage (options: RetagOptions): Promise<ImageBuildResult> {
  const started = performance.now()
  // One tag's retag prints a handful of lines (a build's thousands are why buildImage keeps only a tail).
  const lines: string[] = []
  const result = await runProcess('docker', imagetoolsCreateArgv(options.spec), {
    env: options.env,
    signal: options.signal,
    killGraceMs: options.killGraceMs,
    groups: options.groups,
    onLine: (line, stream) => {
      lines.push(line)
      options.onLine(line, stream)
    }
  })
  const durationMs = Math.round(performance.now() - started)
  if (result.aborted) return { status: 'cancelled', digest: null, durationMs, error: null, reason: null }
  if (result.code !== 0) {
    const failure = classifyRetagFailure(result, lines, options.spec)
    return { status: 'failed', digest: null, durationMs, error: failure.message, reason: failure.reason }
  }
  const digest = options.spec.source.slice(options.spec.source.lastIndexOf('@') + 1)
  return { status: 'succeeded', digest, durationMs, error: null, reason: null }
}
