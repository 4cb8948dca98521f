/**
 * Run a complete Portcullis gateway from code: the same function the `portcullis` CLI calls.
 * @module
 */
export {
  ConfigError,
  configFromEnv,
  configFromFile,
  type GatewayConfig,
  loadConfig,
  parseConfig,
} from './cli/config.js';
export { type Gateway, generatePin, type StartGatewayOptions, startGateway } from './cli/gateway.js';
export { type CliIO, type CliResult, runCli } from './cli/main.js';
export { helpText, OPTIONS, type OptionSpec } from './cli/options.js';
export { loadOrCreateSecret } from './cli/secret.js';
export { type OpenedStorage, openStorage } from './cli/storage.js';
export { createDemoMcpServer, type DemoMcpServerOptions } from './demo-mcp.js';
