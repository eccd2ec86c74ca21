const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** "just now", "5 min ago", "3 h ago", "2 days ago"; "in 4 days" for the future. */
export function relativeTime(at: number, now: number): string {
  const delta = now - at;
  const ahead = delta < 0;
  const span = Math.abs(delta);
  if (span < 45 * SECOND) return ahead ? 'in a moment' : 'just now';
  const text = durationText(span);
  return ahead ? `in ${text}` : `${text} ago`;
}

/** A span in the largest unit that keeps it readable: "45 s", "12 min", "5 h", "3 days". */
export function durationText(ms: number): string {
  const span = Math.max(0, ms);
  if (span < MINUTE) return `${Math.round(span / SECOND)} s`;
  if (span < 2 * HOUR) return `${Math.round(span / MINUTE)} min`;
  if (span < 2 * DAY) return `${Math.round(span / HOUR)} h`;
  const days = Math.round(span / DAY);
  return days === 1 ? '1 day' : `${days} days`;
}

/** An absolute time the operator can compare with the Entra admin center: local, to the minute. */
export function clockTime(at: number): string {
  const date = new Date(at);
  const pad = (value: number): string => String(value).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ${pad(date.getHours())}:${pad(date.getMinutes())}`;
}
