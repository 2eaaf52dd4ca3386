/** What the service's own environment offers its children: read from the validated env, nothing else. */
export interface ParentEnv {
  PATH?: string | undefined
  HOME?: string | undefined
  DOCKER_CONFIG?: string | undefined
}

const FALLBACK_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'

/**
 * The whole environment of a docker or git child: enough to find the binary, its home and the registry
 * credentials (DOCKER_CONFIG), plus what the caller adds. Never the bearer tokens, webhook secrets or
 * anything else of the service's.
 */
export function childEnv (parent: ParentEnv, extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = { PATH: parent.PATH ?? FALLBACK_PATH }
  if (parent.HOME !== undefined) env.HOME = parent.HOME
  if (parent.DOCKER_CONFIG !== undefined) env.DOCKER_CONFIG = parent.DOCKER_CONFIG
  return { ...env, ...extra }
}
