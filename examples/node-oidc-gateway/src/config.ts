import { z } from 'zod';

const list = z
  .string()
  .default('')
  .transform((value) =>
    value
      .split(',')
      .map((item) => item.trim())
      .filter(Boolean),
  );

/** The environment this gateway reads. Every setting is validated; errors name the variable. */
export const envSchema = z.object({
  /** Public https URL of the gateway (the OAuth issuer), e.g. https://mcp.example.com. */
  PUBLIC_URL: z.url(),
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  HOST: z.string().default('0.0.0.0'),
  /** Behind a TLS-terminating proxy / tunnel that sets X-Forwarded-*. */
  TRUST_PROXY: z
    .enum(['true', 'false'])
    .default('true')
    .transform((v) => v === 'true'),
  /** postgres://… (sqlite:… works for local trials). */
  DATABASE_URL: z.string().min(1),
  /** Table prefix, so several gateways can share one database. */
  TABLE_PREFIX: z
    .string()
    .regex(/^[a-z0-9_]+$/)
    .default('portcullis_'),
  /** 32+ characters; comma-separated to rotate (current first). Encrypts stored upstream tokens and props. */
  PORTCULLIS_SECRET: z
    .string()
    .transform((v) => v.split(',').map((s) => s.trim()))
    .refine((secrets) => secrets.every((s) => s.length >= 32), 'every secret must be at least 32 characters'),
  GOOGLE_CLIENT_ID: z.string().min(1),
  GOOGLE_CLIENT_SECRET: z.string().min(1),
  /** Google Workspace domains allowed to sign in (verified email). */
  ALLOWED_DOMAINS: list,
  /** Individual addresses allowed to sign in. */
  ALLOWED_EMAILS: list,
  /** The upstream MCP server (e.g. Context Forge's ClusterIP URL). */
  UPSTREAM_MCP_URL: z.url(),
});

/** The validated settings. */
export type GatewayEnv = z.output<typeof envSchema>;

/** Validates the environment; throws one line naming every bad variable (never its value). */
export function readEnv(env: NodeJS.ProcessEnv): GatewayEnv {
  const result = envSchema.safeParse(env);
  if (result.success) {
    const value = result.data;
    if (value.ALLOWED_DOMAINS.length === 0 && value.ALLOWED_EMAILS.length === 0) {
      throw new Error(
        'invalid configuration: set ALLOWED_DOMAINS or ALLOWED_EMAILS (else any Google account may sign in)',
      );
    }
    return value;
  }
  const problems = result.error.issues.map((issue) => {
    const name = String(issue.path[0]);
    return env[name] === undefined ? `${name} is required` : `${name}: ${issue.message}`;
  });
  throw new Error(`invalid configuration: ${problems.join('; ')}`);
}
