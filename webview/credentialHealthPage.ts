import { provideVSCodeDesignSystem, vsCodeButton, vsCodeProgressRing } from '@vscode/webview-ui-toolkit';
import type { EngineerRole } from '../protocol/daemonApi';
import type { ConnectionNote, HostMessage, PageMessage, PageRequest, PageState } from './credentialHealthProtocol';
import type { AppProfileCard, CredentialHealthRow, CredentialHealthSnapshot } from './credentialHealthSnapshot';
import { expiryCountdown } from './expiryCountdown';
import { relativeTime } from './relativeTime';
import { rotateOffered } from './rotateOffered';

interface VsCodeApi {
  postMessage(message: PageMessage): void;
  getState(): unknown;
  setState(state: PageState): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

// No vscode-tag: its template writes a `style` attribute, which the page's CSP (rightly) refuses.
provideVSCodeDesignSystem().register(vsCodeButton(), vsCodeProgressRing());

const vscode = acquireVsCodeApi();
const CHECK_WORDS: Readonly<Record<CredentialHealthRow['check'], string>> = {
  passing: 'Passing',
  warning: 'Expiring soon',
  failing: 'Failing',
  unchecked: 'Not checked',
};

let state: PageState = restoreState();
let nextRequestId = 1;
/** Requests waiting for the host's reply: which button is busy, and where an error goes. */
const pending = new Map<number, { tenantId: string | null; kind: PageRequest['kind'] }>();
const errors = new Map<string, string>();

function restoreState(): PageState {
  const saved = vscode.getState();
  if (typeof saved === 'object' && saved !== null && 'snapshot' in saved) return saved as PageState;
  return { snapshot: null, connection: null };
}

function element<K extends keyof HTMLElementTagNameMap>(tag: K, options: { className?: string; text?: string } = {}, ...children: Node[]): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (options.className) node.className = options.className;
  // Everything from a tenant is set as text: `<img src=x onerror=…>` in a display name stays characters.
  if (options.text !== undefined) node.textContent = options.text;
  for (const child of children) node.append(child);
  return node;
}

function send(request: PageRequest): void {
  const requestId = nextRequestId++;
  // A profile's request is keyed by its id like a tenant's, for its busy state and its error.
  const tenantId = 'tenantId' in request ? request.tenantId : 'profileId' in request ? request.profileId : null;
  pending.set(requestId, { tenantId, kind: request.kind });
  if (tenantId) errors.delete(tenantId);
  vscode.postMessage({ type: 'request', requestId, request });
  render();
}

function busy(tenantId: string | null, kind: PageRequest['kind']): boolean {
  for (const request of pending.values()) {
    if (request.kind === 'recheckAll' && kind !== 'rotate') return true;
    if (request.tenantId === tenantId && request.kind === kind) return true;
  }
  return false;
}

function button(label: string, focusKey: string, appearance: 'primary' | 'secondary', isBusy: boolean, onClick: () => void): HTMLElement {
  const control = document.createElement('vscode-button');
  control.setAttribute('appearance', appearance);
  control.dataset.focusKey = focusKey;
  control.textContent = isBusy ? `${label}…` : label;
  if (isBusy) control.setAttribute('disabled', '');
  control.addEventListener('click', () => {
    if (!control.hasAttribute('disabled')) onClick();
  });
  return control;
}

function tenantCard(row: CredentialHealthRow, now: number, mayRotate: boolean): HTMLElement {
  const expiry = expiryCountdown(row.expiresAt, now);
  const checking = busy(row.tenantId, 'recheck');
  const heading = element('h2', { text: row.displayName });
  heading.id = `tenant-${row.tenantId}`;
  const tag = element('span', { className: `tag ${row.status === 'DISCONNECTED' ? 'fail' : row.status === 'ACTIVE' ? '' : 'warn'}`, text: row.status });
  const actions = element(
    'div',
    { className: 'actions' },
    ...(checking ? [document.createElement('vscode-progress-ring')] : []),
    button('Re-check', `recheck:${row.tenantId}`, 'secondary', checking, () => send({ kind: 'recheck', tenantId: row.tenantId })),
    ...(mayRotate
      ? [
          button('Rotate credentials', `rotate:${row.tenantId}`, row.check === 'failing' ? 'primary' : 'secondary', busy(row.tenantId, 'rotate'), () =>
            send({ kind: 'rotate', tenantId: row.tenantId }),
          ),
        ]
      : []),
  );
  const card = element(
    'section',
    { className: `tenant ${row.check}` },
    element('div', { className: 'head' }, heading, element('span', { className: 'id', text: row.tenant }), tag, actions),
    element('p', { className: `result ${row.check}`, text: `${CHECK_WORDS[row.check]}: ${row.result}` }),
  );
  card.setAttribute('aria-labelledby', heading.id);
  if (row.failure) {
    card.append(
      element(
        'div',
        { className: 'explain' },
        element('p', {}, element('strong', { text: 'What went wrong: ' }), document.createTextNode(row.failure.message)),
        element('p', {}, element('strong', { text: 'What to do: ' }), document.createTextNode(row.failure.remedy)),
        element('p', { className: 'note' }, element('code', { text: row.failure.code })),
      ),
    );
  }
  const roles = element(
    'ul',
    { className: 'roles' },
    ...row.roles.map((role) => {
      const item = element('li', { className: role.granted ? 'ok' : role.required ? 'fail' : 'warn', text: `${role.granted ? '✓' : '✗'} ${role.name}${role.required ? '' : ' (optional)'}` });
      item.title = `${role.granted ? 'Granted' : 'Not granted'}: ${role.purpose}`;
      item.setAttribute('aria-label', `${role.name}: ${role.granted ? 'granted' : 'not granted'}${role.required ? '' : ', optional'} — ${role.purpose}`);
      return item;
    }),
  );
  const details = element(
    'dl',
    {},
    element('dt', { text: 'Roles needed' }),
    element('dd', {}, roles),
    ...(row.extraRoles.length > 0
      ? [element('dt', { text: 'Also granted' }), element('dd', { className: 'warn', text: `${row.extraRoles.join(', ')} — more than the product needs` })]
      : []),
    element('dt', { text: row.credentialLabel }),
    element('dd', { className: expiry.level === 'expired' ? 'fail' : expiry.level === 'warning' ? 'warn' : '', text: expiry.text }),
    element('dt', { text: 'Last check' }),
    element('dd', { text: row.checkedAt === null ? 'Never' : relativeTime(row.checkedAt, now) }),
  );
  card.append(details);
  const error = errors.get(row.tenantId);
  if (error) card.append(element('p', { className: 'error-text', text: error }));
  return card;
}

function profileCard(card: AppProfileCard, now: number, mayRotate: boolean): HTMLElement {
  const expiry = expiryCountdown(card.expiresAt, now);
  const heading = element('h2', { text: card.name });
  heading.id = `profile-${card.profileId}`;
  const tag = element('span', { className: 'tag', text: `App profile · ${card.tenantCount} ${card.tenantCount === 1 ? 'tenant' : 'tenants'}` });
  const actions = element(
    'div',
    { className: 'actions' },
    ...(mayRotate
      ? [
          button('Rotate credentials', `rotateProfile:${card.profileId}`, card.check === 'failing' ? 'primary' : 'secondary', busy(card.profileId, 'rotateProfile'), () =>
            send({ kind: 'rotateProfile', profileId: card.profileId }),
          ),
        ]
      : []),
  );
  const section = element(
    'section',
    { className: `tenant profile ${card.check}` },
    element('div', { className: 'head' }, heading, element('span', { className: 'id', text: `app ${card.appId} in ${card.partnerTenant}` }), tag, actions),
    element('p', { className: `result ${card.check}`, text: `${CHECK_WORDS[card.check]}: ${card.result}` }),
  );
  section.setAttribute('aria-labelledby', heading.id);
  if (card.failingTenants.length > 0) {
    section.append(
      element('p', {}, element('strong', { text: 'Failing tenants:' })),
      element(
        'ul',
        { className: 'failing' },
        ...card.failingTenants.map((tenant) =>
          element('li', { className: 'fail' }, element('strong', { text: `${tenant.displayName}: ` }), document.createTextNode(`${tenant.problem}${tenant.remedy ? ` ${tenant.remedy}` : ''}`)),
        ),
      ),
    );
  }
  section.append(
    element(
      'dl',
      {},
      element('dt', { text: card.credentialLabel }),
      element('dd', { className: expiry.level === 'expired' ? 'fail' : expiry.level === 'warning' ? 'warn' : '', text: expiry.text }),
      ...(card.uncheckedCount > 0 ? [element('dt', { text: 'Not checked' }), element('dd', { text: `${card.uncheckedCount} since the last rotation` })] : []),
    ),
  );
  const error = errors.get(card.profileId);
  if (error) section.append(element('p', { className: 'error-text', text: error }));
  return section;
}

function render(): void {
  const focusKey = (document.activeElement as HTMLElement | null)?.dataset?.focusKey;
  const { snapshot, connection, role } = state;
  const rows = document.getElementById('rows') as HTMLElement;
  const banner = document.getElementById('banner') as HTMLElement;
  const summary = document.getElementById('summary') as HTMLElement;
  const note = document.getElementById('connection') as HTMLElement;
  const recheckAll = document.getElementById('recheck-all') as HTMLElement;

  note.textContent = connection && !connection.live ? connection.text : '';
  note.className = connection && !connection.live ? 'note offline' : 'note';
  if (busy(null, 'recheckAll')) recheckAll.setAttribute('disabled', '');
  else recheckAll.removeAttribute('disabled');

  if (!snapshot) return;
  const now = Date.now();
  const mayRotate = rotateOffered(role);
  banner.hidden = snapshot.banner === null;
  banner.textContent = snapshot.banner ?? '';
  summary.textContent =
    snapshot.rows.length === 0
      ? ''
      : `${snapshot.rows.length} ${snapshot.rows.length === 1 ? 'tenant' : 'tenants'}: ${snapshot.failing} failing, ${snapshot.warnings} expiring soon`;
  rows.setAttribute('aria-busy', 'false');
  // A snapshot saved by an earlier version of the page has no profiles.
  const profiles = (snapshot as Partial<CredentialHealthSnapshot>).profiles ?? [];
  rows.replaceChildren(
    ...(snapshot.rows.length === 0 && profiles.length === 0
      ? [element('p', { className: 'note', text: 'No tenant is registered with the daemon.' })]
      : [
          ...profiles.map((card) => profileCard(card, now, mayRotate)),
          // Tenants on a profile are its card's: listed there while they fail.
          ...snapshot.rows.filter((row) => !row.appProfileId || !profiles.some((card) => card.profileId === row.appProfileId)).map((row) => tenantCard(row, now, mayRotate)),
        ]),
  );
  // Every update redraws the list; keep the keyboard where it was.
  if (focusKey) (document.querySelector(`[data-focus-key="${CSS.escape(focusKey)}"]`) as HTMLElement | null)?.focus();
}

function save(snapshot: CredentialHealthSnapshot | null, connection: ConnectionNote | null, role: EngineerRole | null): void {
  state = { snapshot, connection, role };
  vscode.setState(state);
}

window.addEventListener('message', (event: MessageEvent<unknown>) => {
  const message = event.data as HostMessage | null;
  if (typeof message !== 'object' || message === null) return;
  if (message.type === 'snapshot') {
    save(message.snapshot, message.connection, message.role);
    render();
  } else if (message.type === 'reply') {
    const request = pending.get(message.requestId);
    pending.delete(message.requestId);
    if (request?.tenantId && !message.ok) errors.set(request.tenantId, message.message);
    else if (!message.ok) (document.getElementById('summary') as HTMLElement).textContent = message.message;
    render();
  }
});

document.getElementById('recheck-all')?.addEventListener('click', (event) => {
  if (!(event.currentTarget as HTMLElement).hasAttribute('disabled')) send({ kind: 'recheckAll' });
});

// Countdowns and "checked 5 min ago" move on without the host.
setInterval(render, 60_000);
render();
vscode.postMessage({ type: 'ready' });
