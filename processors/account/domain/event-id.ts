// An event's id, and its key on the compacted events topic (DESIGN §2): unique per event. The
// one spelling lives with the other record keys (topics/record-keys.ts, pure, no I/O).
export { eventKey as eventIdOf } from '../../../topics/record-keys.ts';
