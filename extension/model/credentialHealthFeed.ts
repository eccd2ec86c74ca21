import { roleAllows, type AppProfileView, type EngineerRole, type TenantView } from '../../protocol/daemonApi';
import type { ConnectionNote, HostMessage } from '../../webview/credentialHealthProtocol';
import type { Debounced } from '../common/debounce';
import { debounce } from '../common/debounce';
import { DisposableBase } from '../common/disposableBase';
import type { Logger } from '../common/logger';
import type { Timers } from '../common/timers';
import { credentialHealthViewModel } from './credentialHealthViewModel';
import { sessionRole } from './sessionRole';
import type { StatusModel } from './statusModel';
import type { TenantsChange } from './statusModel';

export type SnapshotMessage = Extract<HostMessage, { type: 'snapshot' }>;

export interface CredentialHealthFeedOptions {
  model: StatusModel;
  /** `GET /v1/app-profiles`: profiles are not in the event stream. */
  readAppProfiles: () => Promise<AppProfileView[]>;
  post: (message: SnapshotMessage) => void;
  /** Whether the extension is set to a shared deployment: without a session, a local daemon is an admin's. */
  mode: () => 'local' | 'shared';
  timers: Timers;
  logger: Logger;
}

/** What of a tenant a profile's summary is made of: which profile it uses and its last check. */
function profileShare(tenant: TenantView | undefined): string {
  return tenant?.appProfileId ? JSON.stringify([tenant.appProfileId, tenant.credentialHealth]) : '';
}

/**
 * What the credential-health page is sent, and when, without `vscode`. With many tenants every poll
 * round brings an event per tenant: snapshots go out only while the page is shown (once more when it is
 * shown again), only when they differ from the last one sent (a round that changed nothing the page
 * shows sends nothing: with 1,000 tenants each was a page of 1,000 rows drawn again up to ten times a
 * second), and app profiles are read again only when they can have changed — a tenant added or removed,
 * a check of a tenant on a profile, a profile added or rotated here, another session.
 */
export class CredentialHealthFeed extends DisposableBase {
  readonly #options: CredentialHealthFeedOptions;
  readonly #postSoon: Debounced;
  #shown = false;
  /** Something changed while the page was not shown. */
  #behind = true;
  #appProfiles: AppProfileView[] = [];
  #profilesToRead = true;
  #profilesGeneration = 0;
  /** Per tenant on a profile, what its summary was last read with. */
  readonly #profileShares = new Map<string, string>();
  /** The last snapshot sent as text, without the time it was made at; null when the page holds none. */
  #lastSent: string | null = null;

  constructor(options: CredentialHealthFeedOptions) {
    super();
    this.#options = options;
    const { model } = options;
    this.#postSoon = this.register(debounce(options.timers, 100, () => this.#post()));
    this.register(model.onDidChangeTenants((change) => this.#tenantsChanged(change)));
    this.register(model.onDidChangeConnection(() => this.#changed()));
    this.register(model.onDidChangeAppProfiles(() => this.profilesChanged()));
    // Signed in as someone else, to another deployment, or out (the model was cleared): the profiles
    // shown were another session's.
    this.register(
      model.onDidChangeSession(() => {
        this.#appProfiles = [];
        this.#profilesGeneration++;
        this.profilesChanged();
      }),
    );
  }

  /** The page is loaded and in sight (or not): it is sent nothing while it cannot be seen. */
  setShown(shown: boolean): void {
    const was = this.#shown;
    this.#shown = shown;
    if (!shown) {
      this.#postSoon.cancel();
      // Shown again, it is sent a snapshot whatever it holds.
      this.#lastSent = null;
      return;
    }
    if (!was || this.#behind) this.#post();
  }

  /** The page (re)loaded and holds nothing yet: it is sent a snapshot as soon as it is shown. */
  pageLoaded(): void {
    this.#behind = true;
    this.#lastSent = null;
  }

  /** Profiles were changed from the page, or elsewhere: read them again. */
  profilesChanged(): void {
    this.#profilesToRead = true;
    this.#changed();
  }

  #tenantsChanged(change: TenantsChange): void {
    const { model } = this.#options;
    if (change.tenantIds === undefined) {
      this.#profilesToRead = true;
    } else {
      for (const tenantId of change.tenantIds) {
        const share = profileShare(model.tenant(tenantId));
        if (share === (this.#profileShares.get(tenantId) ?? '')) continue;
        this.#profilesToRead = true;
        break;
      }
    }
    this.#changed();
  }

  #changed(): void {
    if (this.#shown) this.#postSoon.schedule();
    else this.#behind = true;
  }

  #role(): EngineerRole | undefined {
    return sessionRole(this.#options.model.session, this.#options.mode());
  }

  #mayReadProfiles(): boolean {
    // App profiles are an admin's business in a shared deployment: others are not shown them.
    return roleAllows(this.#role(), 'admin');
  }

  #post(): void {
    if (!this.#shown) {
      this.#behind = true;
      return;
    }
    this.#behind = false;
    if (!this.#mayReadProfiles()) {
      this.#appProfiles = [];
      this.#profilesToRead = false;
    }
    this.#send();
    if (!this.#profilesToRead) return;
    this.#profilesToRead = false;
    const { model } = this.#options;
    const shares = new Map(model.tenants().map((tenant) => [tenant.id, profileShare(tenant)]));
    const generation = ++this.#profilesGeneration;
    this.#options.readAppProfiles().then(
      (profiles) => {
        if (generation !== this.#profilesGeneration) return;
        this.#appProfiles = profiles;
        this.#profileShares.clear();
        for (const [tenantId, share] of shares) if (share) this.#profileShares.set(tenantId, share);
        if (this.#shown) this.#send();
        else this.#behind = true;
      },
      (error: unknown) => this.#options.logger.debug(`credential health: could not read app profiles: ${error instanceof Error ? error.message : String(error)}`),
    );
  }

  #send(): void {
    const { model, timers } = this.#options;
    const message: SnapshotMessage = {
      type: 'snapshot',
      snapshot: credentialHealthViewModel(model.tenants(), timers.now(), this.#appProfiles),
      connection: this.#connectionNote(),
      role: this.#role() ?? null,
    };
    const { generatedAt: _madeAt, ...shown } = message.snapshot;
    const text = JSON.stringify([shown, message.connection, message.role]);
    if (text === this.#lastSent) return;
    this.#lastSent = text;
    this.#options.post(message);
  }

  #connectionNote(): ConnectionNote {
    const connection = this.#options.model.connection;
    switch (connection.kind) {
      case 'connected':
        return { live: true, text: 'Live' };
      case 'reconnecting':
        return { live: false, text: `Not live: reconnecting to the daemon (${connection.reason}). Shown as last known.` };
      case 'unreachable':
        return { live: false, text: 'Not live: no daemon is reachable.' };
      case 'signInNeeded':
        return { live: false, text: 'Not live: sign in to the shared deployment again.' };
      case 'connecting':
      case 'starting':
        return { live: false, text: 'Connecting to the daemon…' };
    }
  }
}
