// POST /api/v1/gates/evaluate {digest, baseline: previous|sha256:…, policy?} (scope read): the verdict
// `lading scan --baseline BASELINE [--policy POLICY]` gives, by the engine's `assess`, on the server's findings of the
// two images (queries/diff-input.ts: its match, re-analysis and exceptions over the stored inventory), with the
// image's counts as judged (what its counters and `/trends` hold).
import type { FastifyInstance } from 'fastify';
import type { ServerContext } from '../context.js';
import { ProblemError } from '../http/problem.js';
import { evaluateGate, policyFromRequest, UnusableReportError } from '../queries/compare.js';
import { imageOrNotFound, previousOrProblem, storedReport } from './diff.js';
import { badParameter, digestValue, readScope } from './read-common.js';

interface GateRequest {
  digest?: unknown;
  baseline?: unknown;
  policy?: unknown;
}

export function registerGateRoutes(app: FastifyInstance, ctx: ServerContext): void {
  app.post('/api/v1/gates/evaluate', async (request) => {
    const scope = await readScope(request, ctx);
    const body = request.body as GateRequest | null;
    if (!body || typeof body !== 'object' || Array.isArray(body)) {
      throw badParameter('body', 'a JSON object {digest, baseline, policy?} is required');
    }
    const digest = digestValue('digest', typeof body.digest === 'string' ? body.digest : undefined);
    const baselineParam = body.baseline ?? 'previous';
    if (typeof baselineParam !== 'string') throw badParameter('baseline', 'previous or an image digest');
    if (
      body.policy !== undefined &&
      typeof body.policy !== 'string' &&
      (typeof body.policy !== 'object' || body.policy === null)
    ) {
      throw badParameter('policy', 'a policy document (YAML or JSON text, or a JSON object)');
    }
    const image = await imageOrNotFound(ctx, scope, digest);
    const baselineImage =
      baselineParam === 'previous'
        ? await previousOrProblem(ctx, scope, image, digest)
        : await imageOrNotFound(ctx, scope, digestValue('baseline', baselineParam));
    let policy: Awaited<ReturnType<typeof policyFromRequest>> | undefined;
    if (body.policy !== undefined) {
      try {
        policy = await policyFromRequest(body.policy);
      } catch (err) {
        if (err instanceof UnusableReportError) {
          throw new ProblemError(422, 'Unprocessable Content', err.message, { code: 'invalid_policy' });
        }
        throw err;
      }
    }
    const [report, baseline] = await Promise.all([storedReport(ctx, image), storedReport(ctx, baselineImage)]);
    // the reports come from the cache when their rows are unchanged; the verdict itself depends on the clock and the
    // policy, so it is computed each time
    const answer = evaluateGate(report.report, baseline.report, {
      ...(policy ? { policy } : {}),
      now: new Date(ctx.now()),
    });
    return { digest, baseline: baselineImage.digest, ...answer };
  });
}
