// GET /api/v1/events/stream: the live feed of event-stream.ts as Server-Sent Events. The request
// is checked (Last-Event-ID, room for one more stream) while it can still be answered with a
// problem; then the response is hijacked from fastify and belongs to the stream until either
// side closes it. Shutdown ends every stream first (preClose), else the server would wait on them.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { HttpProblem } from '../http/errors.ts';
import type { EventStream } from './event-stream.ts';
import * as schemas from './http-schemas.ts';

type StreamRequest = FastifyRequest<{ Querystring: { lastEventId?: string } }>;

export function registerEventStream(app: FastifyInstance, events: EventStream): void {
  const schema = { querystring: schemas.streamQuery, response: { 400: schemas.problem, 503: schemas.problem } };
  app.get('/api/v1/events/stream', { schema }, async (request: StreamRequest, reply) => {
    const header = request.headers['last-event-id'];
    if (Array.isArray(header)) throw new HttpProblem('VALIDATION_FAILED', 'Last-Event-ID must be given once');
    // A browser's EventSource sends the header on reconnects only; a first connection can name it in the query.
    const start = events.start(header ?? request.query.lastEventId);
    events.checkRoom();
    reply.hijack();
    events.attach(reply.raw, start);
  });
  app.addHook('preClose', async () => events.closeAll());
}
