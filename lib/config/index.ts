export { readConfig, parseConfig, ConfigError } from './load.js'
export type {
  Settings, ProjectSettings, ImageSettings, BuilderSettings, DeploymentSettings, TlsSettings, StatusSettings, NotifySettings
} from './settings.js'
export type { Problem } from './problems.js'
export { RESERVED_SLUGS } from './rules.js'
