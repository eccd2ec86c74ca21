import { credentialRequirements } from '../protocol/credentialRequirements';
import type { ExpiryLevel } from './credentialHealthSnapshot';
import { clockTime, relativeTime } from './relativeTime';

const DAY = 24 * 60 * 60 * 1000;
const { expiryWarningMs } = credentialRequirements;

/** The secret's or certificate's remaining life in words, and how worried to be about it. */
export function expiryCountdown(expiresAt: number | null, now: number): { level: ExpiryLevel; text: string } {
  if (expiresAt === null) return { level: 'unknown', text: 'Expiry not known' };
  const left = expiresAt - now;
  if (left <= 0) return { level: 'expired', text: `Expired ${relativeTime(expiresAt, now)} (${clockTime(expiresAt)})` };
  const days = Math.floor(left / DAY);
  const span = days >= 2 ? `${days} days` : days === 1 ? '1 day' : `${Math.max(1, Math.ceil(left / 3_600_000))} h`;
  return { level: left < expiryWarningMs ? 'warning' : 'ok', text: `Expires in ${span} (${clockTime(expiresAt)})` };
}
