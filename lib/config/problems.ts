/** One thing wrong with a config file: where (TOML path, e.g. projects[1].image[0].location) and why. */
export interface Problem {
  path: string
  message: string
}

const collator = new Intl.Collator('en', { numeric: true })

/** Problems in file order (projects[2] before projects[10]). */
export function sortProblems (problems: readonly Problem[]): Problem[] {
  return [...problems].sort((a, b) => collator.compare(a.path, b.path))
}

export function formatProblems (problems: readonly Problem[]): string {
  return problems.map(p => `  - ${p.path}: ${p.message}`).join('\n')
}

/** A TOML key as it appears in a path: bare when it can be, quoted otherwise. */
export function tomlKey (key: string): string {
  return /^[A-Za-z0-9_-]+$/.test(key) ? key : JSON.stringify(key)
}

export function joinPath (parent: string, key: string | number): string {
  if (typeof key === 'number') return `${parent}[${key}]`
  return parent === '' ? tomlKey(key) : `${parent}.${tomlKey(key)}`
}
