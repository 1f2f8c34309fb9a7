/**
 * Go's time layout `2006-01-02T15:04:05.000000Z07:00`, which go-hclog and chainlink's zap config both
 * write and go-plugin's host insists on when it parses a JSON log line.
 */

/**
 * `time` in the layout `2006-01-02T15:04:05.000000Z07:00` at the given offset (minutes east of UTC;
 * default: the local offset at `time`). Milliseconds are padded with `000` to 6 digits.
 */
export function formatGoTimestamp(time: Date, utcOffsetMinutes?: number): string {
  let ms = time instanceof Date ? time.getTime() : NaN;
  if (!Number.isFinite(ms)) ms = Date.now();
  let offset = utcOffsetMinutes;
  if (offset === undefined || !Number.isFinite(offset)) offset = -new Date(ms).getTimezoneOffset();
  // Whole seconds, like a Go zone offset (historic LMT offsets have seconds).
  let offsetSeconds = Math.round(offset * 60);
  let local = new Date(ms + offsetSeconds * 1000);
  if (!Number.isFinite(local.getTime())) {
    local = new Date(ms);
    offsetSeconds = 0;
  }
  const year = local.getUTCFullYear();
  const yyyy = year < 0 ? '-' + pad(-year, 4) : pad(year, 4);
  const date = `${yyyy}-${pad(local.getUTCMonth() + 1, 2)}-${pad(local.getUTCDate(), 2)}`;
  const clock = `${pad(local.getUTCHours(), 2)}:${pad(local.getUTCMinutes(), 2)}:${pad(local.getUTCSeconds(), 2)}`;
  const frac = pad(local.getUTCMilliseconds(), 3) + '000';
  let zone = 'Z';
  if (offsetSeconds !== 0) {
    const abs = Math.abs(offsetSeconds);
    // Go's Z07:00 prints hours and minutes only (seconds of an offset are dropped).
    zone = `${offsetSeconds < 0 ? '-' : '+'}${pad(Math.floor(abs / 3600), 2)}:${pad(Math.floor((abs % 3600) / 60), 2)}`;
  }
  return `${date}T${clock}.${frac}${zone}`;
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}
