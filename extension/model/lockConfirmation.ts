import type { LockOutcome, UserView } from '../../protocol/daemonApi';
import type { ErrorCode } from '../../protocol/errorCodes';
import { DaemonApiError } from '../client/daemonApiError';

export interface LockChoice {
  title: string;
  revokeSessions: boolean;
  overrideOnPremises: boolean;
}

export interface Confirmation {
  message: string;
  detail: string;
  choices: LockChoice[];
}

/** The daemon's code for "this user's sign-in state is mastered on-premises; say so explicitly". */
export const ON_PREMISES_REFUSAL_CODE: ErrorCode = 'ON_PREMISES_USER';

export function isOnPremisesRefusal(error: unknown): error is DaemonApiError {
  return error instanceof DaemonApiError && error.status === 409 && error.code === ON_PREMISES_REFUSAL_CODE;
}

const userName = (user: Pick<UserView, 'displayName' | 'userPrincipalName'>): string => user.displayName?.trim() || user.userPrincipalName;

const ON_PREMISES_WARNING =
  'This user is synced from on-premises Active Directory: its sign-in state is mastered there, and the next directory sync ' +
  'may undo a change made here. Make the same change on-premises as well.';

/** What the lock confirmation says it does, with the choice to revoke sessions too. */
export function lockConfirmation(user: UserView, tenantName: string): Confirmation {
  const onPremises = user.onPremisesSyncEnabled === true;
  const detail = [
    `Locking disables sign-in for ${user.userPrincipalName} in Microsoft 365 (accountEnabled = false); new sign-ins are refused.`,
    'Sessions the user already has stay valid until their tokens expire, unless you also revoke them, which signs the user out of every app within minutes.',
    'Unlock turns sign-in back on.',
  ];
  if (onPremises) detail.push('', ON_PREMISES_WARNING);
  const suffix = onPremises ? ' Anyway' : '';
  return {
    message: `Lock ${userName(user)} in ${tenantName}?`,
    detail: detail.join('\n'),
    choices: [
      { title: `Lock${suffix}`, revokeSessions: false, overrideOnPremises: onPremises },
      { title: `Lock${suffix} and Revoke Sessions`, revokeSessions: true, overrideOnPremises: onPremises },
    ],
  };
}

/** Unlock asks only when the user is synced from on-premises, where the override must be explicit. */
export function unlockConfirmation(user: UserView, tenantName: string): Confirmation | undefined {
  if (user.onPremisesSyncEnabled !== true) return undefined;
  return {
    message: `Unlock ${userName(user)} in ${tenantName}?`,
    detail: `Unlocking enables sign-in for ${user.userPrincipalName} in Microsoft 365.\n\n${ON_PREMISES_WARNING}`,
    choices: [{ title: 'Unlock Anyway', revokeSessions: false, overrideOnPremises: true }],
  };
}

/** Asked when the daemon refused because the user is synced from on-premises and no override was given. */
export function onPremisesOverridePrompt(action: 'lock' | 'unlock', user: Pick<UserView, 'displayName' | 'userPrincipalName'>, tenantName: string, daemonMessage: string): Confirmation {
  const verb = action === 'lock' ? 'Lock' : 'Unlock';
  return {
    message: `${userName(user)} in ${tenantName} is synced from on-premises AD. ${verb} it anyway?`,
    detail: `${daemonMessage}\n\n${ON_PREMISES_WARNING}`,
    choices: [{ title: `${verb} Anyway`, revokeSessions: false, overrideOnPremises: true }],
  };
}

/** The one line the operator sees after a lock or unlock. */
export function lockOutcomeMessage(outcome: LockOutcome, tenantName: string): string {
  const name = userName(outcome.user);
  if (outcome.outcome === 'unchanged') return `${name} in ${tenantName}: ${outcome.message}`;
  if (outcome.outcome === 'locked') {
    return `Locked ${name} in ${tenantName}${outcome.user.lock?.revokedSessions ? '; sign-in sessions revoked' : ''}.`;
  }
  return `Unlocked ${name} in ${tenantName}.`;
}
