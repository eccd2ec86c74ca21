import type { SimDirectory } from '../directory/simDirectory';
import type { SimClock } from '../simClock';
import type { LinkTokens } from './linkTokens';

/** What Graph's handlers share. */
export interface GraphContext {
  directory: SimDirectory;
  clock: SimClock;
  linkTokens: LinkTokens;
}
