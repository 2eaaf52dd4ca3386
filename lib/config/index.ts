export { readConfig, parseConfig, requireNamedVariables, ConfigError } from './load.js'
export { describeUnset, unsetVariables, type NamedVariable, type UnsetVariable } from './named-variables.js'
export type {
  Settings, ProjectSettings, ImageSettings, BuilderSettings, BuilderNode, DeploymentSettings, TlsSettings, StatusSettings, NotifySettings
} from './settings.js'
export type { Problem } from './problems.js'
export { RESERVED_SLUGS } from './rules.js'
