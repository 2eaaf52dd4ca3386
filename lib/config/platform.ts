// Platforms as buildx stores and lists them (containerd's platforms.Normalize, through buildx's platformutil):
// what a node's `--platform` becomes in `docker buildx ls --format json`, so that the config compares alike.

const ARCH_ALIASES: Readonly<Record<string, string>> = { x86_64: 'amd64', 'x86-64': 'amd64', aarch64: 'arm64', i386: '386', armhf: 'arm', armel: 'arm' }

/** `os/arch[/variant]` (already checked by rules.checkPlatform) in its normalized form: linux/aarch64 -> linux/arm64, linux/arm -> linux/arm/v7. */
export function canonicalPlatform (text: string): string {
  const [os, rawArch, rawVariant] = text.toLowerCase().split('/') as [string, string, string | undefined]
  const arch = ARCH_ALIASES[rawArch] ?? rawArch
  let variant = rawVariant
  if (arch === 'arm64' && (variant === 'v8' || variant === '8')) variant = undefined
  if (arch === 'amd64' && (variant === 'v1' || variant === '1')) variant = undefined
  if (arch === 'arm' && variant === undefined) variant = rawArch === 'armel' ? 'v6' : 'v7'
  if (variant !== undefined && /^\d$/.test(variant)) variant = `v${variant}`
  return variant === undefined ? `${os}/${arch}` : `${os}/${arch}/${variant}`
}
