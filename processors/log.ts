// Structured logs for the processors: one JSON object per line on stdout, so `npm start` can
// prefix them and operators can grep or parse them.

export type LogFields = Record<string, unknown>;
export type Log = (msg: string, fields?: LogFields) => void;

export interface Logger {
  info: Log;
  warn: Log;
  error: Log;
}

export function createLogger(component: string): Logger {
  const write = (level: string) => (msg: string, fields: LogFields = {}) => {
    process.stdout.write(JSON.stringify({ time: new Date().toISOString(), level, component, msg, ...fields }) + '\n');
  };
  return { info: write('info'), warn: write('warn'), error: write('error') };
}
