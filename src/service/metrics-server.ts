// A standalone worker's own /metrics and /healthz (`remedy worker --metrics-listen`): the runs it
// executes, their alert → first command latency, its queue's depth and the leases it lost, for a
// Prometheus that scrapes each data centre's workers where the API servers cannot see them.
import Fastify, { type FastifyInstance } from 'fastify';
import type { Metrics } from './metrics.js';

export interface MetricsServer {
  url: string;
  close(): Promise<void>;
}

export async function startMetricsServer(metrics: Metrics, listen: { host: string; port: number }): Promise<MetricsServer> {
  const app: FastifyInstance = Fastify({ logger: false });
  app.get('/metrics', async (_req, reply) => reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()));
  app.get('/healthz', async () => ({ ok: true }));
  const url = await app.listen({ host: listen.host, port: listen.port });
  return { url, close: () => app.close() };
}
