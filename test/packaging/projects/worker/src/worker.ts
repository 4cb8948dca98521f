// A Worker: Portcullis on Cloudflare KV and the coordinator Durable Object, with a protected /api.
import { portcullis } from '@portcullis/adapter-workers';
import { pinUpstream } from '@portcullis/core/upstreams';
import { cloudflareStorage } from '@portcullis/storage-kv';

export { PortcullisCoordinator } from '@portcullis/storage-kv';

interface Env {
  readonly OAUTH_KV: KVNamespace;
  readonly PORTCULLIS: DurableObjectNamespace;
  readonly PORTCULLIS_SECRET: string;
}

export default portcullis((env: Env) => ({
  storage: cloudflareStorage({ kv: env.OAUTH_KV, coordinator: env.PORTCULLIS }),
  upstream: pinUpstream({ pin: '246810' }),
  secret: env.PORTCULLIS_SECRET,
  apiRoute: '/api',
  apiHandler: (_request, { info }) => Response.json({ user: info.userId }),
})) satisfies ExportedHandler<Env>;
