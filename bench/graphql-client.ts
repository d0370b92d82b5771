/** A minimal GraphQL-over-HTTP client for the benchmark: keep-alive, JSON in and out, errors thrown. */
import { Agent, request } from 'undici';
import { benchClientKey } from './project';

export interface GraphQLAnswer {
  data: unknown;
}

export class GraphQLClient {
  private readonly agent = new Agent({ keepAliveTimeout: 30_000 });

  constructor(readonly url: string) {}

  /** Posts the operation; throws on a non-200 status or on any GraphQL error, so that no failure counts as a fast answer. */
  async query(query: string, variables: Record<string, unknown>, headers: Record<string, string> = {}): Promise<GraphQLAnswer> {
    const response = await request(this.url, {
      method: 'POST',
      dispatcher: this.agent,
      // A benchmark key unless the caller names one (the virtualize gateway authenticates every request).
      headers: { 'content-type': 'application/json', accept: 'application/json', 'x-api-key': benchClientKey(0), ...headers },
      body: JSON.stringify({ query, variables }),
    });
    const text = await response.body.text();
    if (response.statusCode !== 200) throw new Error(`${this.url} answered ${response.statusCode}: ${text.slice(0, 500)}`);
    const body = JSON.parse(text) as { data?: unknown; errors?: unknown[] };
    if (body.errors && body.errors.length > 0) throw new Error(`${this.url} answered with errors: ${JSON.stringify(body.errors).slice(0, 500)}`);
    return { data: body.data };
  }

  close(): Promise<void> {
    return this.agent.close();
  }
}
