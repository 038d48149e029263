// kafkajs's log lines as `npm start` shows them: the per-attempt errors of requests it retries
// while a fresh broker elects group coordinators and partition leaders are start-up noise (debug
// only), while the same codes in a crash, and every other error, stay at error level.
import { logLevel } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { kafkaLogLevel } from '../../../topics/kafka.ts';

const response = (api: string, error: string) => ({ namespace: 'Connection', level: logLevel.ERROR, log: { message: `Response ${api}(key: 10, version: 2)`, error } });

describe('kafkajs log levels', () => {
  it('retried coordinator and leader errors of a first start are debug lines, dropped unless KAFKAJS_LOG_LEVEL=debug', () => {
    const settling = [
      response('GroupCoordinator', 'The group coordinator is not available'),
      response('JoinGroup', 'This is not the correct coordinator for this group'),
      response('OffsetFetch', "The coordinator is loading and hence can't process requests"),
      response('Metadata', 'There is no leader for this topic-partition as we are in the middle of a leadership election'),
      response('Heartbeat', 'The group is rebalancing, so a rejoin is needed'),
    ];
    for (const entry of settling) {
      expect([entry.log.error, kafkaLogLevel(entry, logLevel.WARN)]).toEqual([entry.log.error, null]);
      expect(kafkaLogLevel(entry, logLevel.DEBUG)).toBe('debug');
    }
  });

  it('a crash with the same cause, a failed connection or another error code stays at error level', () => {
    const loud = [
      { namespace: 'Consumer', level: logLevel.ERROR, log: { message: 'Crash: KafkaJSNumberOfRetriesExceeded: The group coordinator is not available' } },
      { namespace: 'Connection', level: logLevel.ERROR, log: { message: 'Connection error: connect ECONNREFUSED 127.0.0.1:9092' } },
      response('Produce', 'The request included a message larger than the max message size the server will accept'),
      response('SaslAuthenticate', 'Authentication failed'),
    ];
    for (const entry of loud) expect([entry.log.message, kafkaLogLevel(entry, logLevel.WARN)]).toEqual([entry.log.message, 'error']);
  });
});
