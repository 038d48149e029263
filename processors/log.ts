// Structured logs for the processors: one JSON object per line on stdout, so `npm start` can
// prefix them and operators can grep or parse them.

export type LogFields = Record<string, unknown>;
export type Log = (msg: string, fields?: LogFields) => void;

export interface Logger {
  info: Log;
  warn: Log;
  error: Log;
  /** Present only with LOG_LEVEL=debug: detail for tests and investigations, off in production. */
  debug?: Log;
}

export function createLogger(component: string, env: NodeJS.ProcessEnv = process.env): Logger {
  const write = (level: string) => (msg: string, fields: LogFields = {}) => {
    process.stdout.write(JSON.stringify({ time: new Date().toISOString(), level, component, msg, ...fields }) + '\n');
  };
  const logger: Logger = { info: write('info'), warn: write('warn'), error: write('error') };
  if (env.LOG_LEVEL === 'debug') logger.debug = write('debug');
  return logger;
}
