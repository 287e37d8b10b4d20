const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/**
 * `14:32 UTC`, or `Mar 2 14:32 UTC` when the moment falls on another day than
 * `now`: what a person in a channel needs to match against their own clock.
 */
export function utcClock(at: Date, now: Date): string {
  const hhmm = at.toISOString().slice(11, 16);
  if (at.toISOString().slice(0, 10) === now.toISOString().slice(0, 10)) return `${hhmm} UTC`;
  return `${MONTHS[at.getUTCMonth()]} ${at.getUTCDate()} ${hhmm} UTC`;
}
