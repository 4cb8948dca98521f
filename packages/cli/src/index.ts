/**
 * Run a complete Portcullis gateway from code: the same function the `portcullis` CLI calls.
 * @module
 */

export { type AdminIO, adminHelp, runAdmin } from './admin.js';
export {
  ConfigError,
  configFromEnv,
  configFromFile,
  type GatewayConfig,
  loadConfig,
  parseConfig,
} from './config.js';
export { createDemoMcpServer, type DemoMcpServerOptions } from './demo-mcp.js';
export { type Gateway, generatePin, type StartGatewayOptions, startGateway } from './gateway.js';
export { type CliIO, type CliResult, runCli } from './main.js';
export { createGatewayMetrics, type GatewayMetrics, serveMetrics } from './metrics.js';
export { helpText, OPTIONS, type OptionSpec } from './options.js';
export { loadOrCreateSecret } from './secret.js';
export { type OpenedStorage, openStorage } from './storage.js';
