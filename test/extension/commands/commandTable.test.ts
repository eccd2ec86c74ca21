import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { COMMAND_CATEGORY, COMMANDS } from '../../../extension/common/commandTable';
import { CONTEXT_KEYS, VIEW_IDS } from '../../../extension/common/contextKeys';

const root = fileURLToPath(new URL('../../..', import.meta.url));

interface Manifest {
  main: string;
  activationEvents: string[];
  contributes: {
    commands: Array<{ command: string; title: string; category: string; icon?: string }>;
    menus: Record<string, Array<{ command: string; when?: string; group?: string }>>;
    views: Record<string, Array<{ id: string }>>;
    viewsContainers: { activitybar: Array<{ id: string }> };
    viewsWelcome: Array<{ view: string; when: string; contents: string }>;
    configuration: { properties: Record<string, unknown> };
  };
}

const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as Manifest;
const table = Object.values(COMMANDS);
const declared = new Set(manifest.contributes.commands.map((command) => command.command));
const ours = new Set<string>(table.map((command) => command.id));

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? sourceFiles(join(dir, entry.name)) : entry.name.endsWith('.ts') ? [join(dir, entry.name)] : [],
  );
}

describe('extension manifest: commands in package.json and the command table agree', () => {
  it('declares every command of the table, with its title, icon and the one category', () => {
    for (const command of table) {
      const entry = manifest.contributes.commands.find((candidate) => candidate.command === command.id);
      assert.ok(entry, `${command.id} is not declared in package.json`);
      assert.equal(entry.title, command.title, command.id);
      assert.equal(entry.category, COMMAND_CATEGORY, command.id);
      assert.equal(entry.icon, 'icon' in command ? command.icon : undefined, command.id);
    }
  });

  it('registers every command package.json declares (none declared and forgotten)', () => {
    for (const id of declared) assert.ok(ours.has(id), `${id} is declared in package.json but not in the command table`);
    assert.equal(declared.size, manifest.contributes.commands.length, 'no command declared twice');
  });

  it('has a handler for every command of the table', () => {
    const handlers = readFileSync(join(root, 'extension/commands/commandHandlers.ts'), 'utf8');
    for (const key of Object.keys(COMMANDS)) assert.match(handlers, new RegExp(`^  ${key}: \\w+Command,$`, 'm'), key);
  });

  it('registers commands only through the one wrapper, and runs only commands it declares', () => {
    for (const file of sourceFiles(join(root, 'extension'))) {
      const text = readFileSync(file, 'utf8');
      const name = relative(root, file);
      if (name !== join('extension', 'commands', 'registerCommands.ts')) {
        assert.doesNotMatch(text, /registerCommand\(/, `${name} registers a command outside registerCommands`);
      }
      for (const match of text.matchAll(/['"](m365Status\.[A-Za-z]+)['"]/g)) {
        const id = match[1] as string;
        const known = ours.has(id) || Object.values(CONTEXT_KEYS).includes(id as never) || Object.values(VIEW_IDS).includes(id as never) || id.startsWith('m365Status.status');
        assert.ok(known, `${name} names ${id}, which is no command, context key or view`);
      }
    }
  });

  it('hides from the palette exactly the commands that make no sense there', () => {
    const hidden = new Set(manifest.contributes.menus.commandPalette?.filter((entry) => entry.when === 'false').map((entry) => entry.command));
    for (const command of table) assert.equal(hidden.has(command.id), !command.palette, command.id);
  });

  it('points every menu and welcome button at a declared command, and uses only its own context keys', () => {
    const contextKeys = new Set<string>(Object.values(CONTEXT_KEYS));
    for (const [menu, entries] of Object.entries(manifest.contributes.menus)) {
      for (const entry of entries) {
        assert.ok(declared.has(entry.command), `${menu} names ${entry.command}`);
        for (const key of (entry.when ?? '').match(/m365Status\.[A-Za-z]+/g) ?? []) {
          assert.ok(contextKeys.has(key) || Object.values(VIEW_IDS).includes(key as never), `${menu}: ${key} is not a context key`);
        }
      }
    }
    for (const welcome of manifest.contributes.viewsWelcome) {
      for (const match of welcome.contents.matchAll(/command:(m365Status\.[A-Za-z]+)/g)) assert.ok(declared.has(match[1] as string), match[1]);
      for (const key of welcome.when.match(/m365Status\.[A-Za-z]+/g) ?? []) assert.ok(contextKeys.has(key), key);
    }
  });

  it('chooses inline actions by the contextValue states the tree model produces', () => {
    const inline = manifest.contributes.menus['view/item/context']?.filter((entry) => entry.group?.startsWith('inline')) ?? [];
    const whenOf = (command: string): string => inline.find((entry) => entry.command === command)?.when ?? '';
    const matches = (when: string, contextValue: string): boolean => {
      const pattern = /viewItem =~ \/(.+?)\//.exec(when)?.[1];
      return pattern !== undefined && new RegExp(pattern).test(contextValue);
    };
    for (const status of ['ACTIVE', 'STALE', 'INACTIVE', 'DORMANT', 'DISCONNECTED']) {
      assert.ok(matches(whenOf(COMMANDS.refreshTenant.id), `tenant:${status}`), `refresh on ${status}`);
      assert.ok(matches(whenOf(COMMANDS.refreshTenant.id), `tenant:${status}:busy`), 'refresh is never disabled, even while busy');
    }
    assert.ok(matches(whenOf(COMMANDS.lockUser.id), 'user:enabled'));
    assert.ok(matches(whenOf(COMMANDS.lockUser.id), 'user:enabled:onPremises'));
    assert.ok(!matches(whenOf(COMMANDS.lockUser.id), 'user:locked'));
    assert.ok(!matches(whenOf(COMMANDS.lockUser.id), 'user:enabled:busy'), 'no second lock while one runs');
    assert.ok(matches(whenOf(COMMANDS.unlockUser.id), 'user:locked'));
    assert.ok(matches(whenOf(COMMANDS.unlockUser.id), 'user:disabled:onPremises'));
    assert.ok(!matches(whenOf(COMMANDS.unlockUser.id), 'user:locked:busy'));
  });

  it('contributes the view container with the Tenants and Activity views, and activates for the status bar and the panel', () => {
    assert.equal(manifest.main, './dist/extension.cjs');
    assert.deepEqual(
      manifest.contributes.viewsContainers.activitybar.map((container) => container.id),
      [VIEW_IDS.container],
    );
    assert.deepEqual(
      manifest.contributes.views[VIEW_IDS.container]?.map((view) => view.id),
      [VIEW_IDS.tenants, VIEW_IDS.activity],
    );
    assert.ok(manifest.activationEvents.includes('onStartupFinished'));
    assert.ok(manifest.activationEvents.includes(`onWebviewPanel:${VIEW_IDS.credentialHealthPanel}`));
  });

  it('declares every setting the extension reads', () => {
    const source = readFileSync(join(root, 'extension/common/extensionSettings.ts'), 'utf8');
    const read = [...source.matchAll(/\w+\('([a-zA-Z.]+)',/g)].map((match) => `m365Status.${match[1]}`);
    assert.ok(read.length >= 8);
    assert.deepEqual(read.sort(), Object.keys(manifest.contributes.configuration.properties).sort());
  });

  it("offers an admin's commands (tenants and app profiles added, rotated, removed) in menus and welcome links only to admins", () => {
    const adminOnly = [
      COMMANDS.addTenant,
      COMMANDS.addTenantsFromFile,
      COMMANDS.addAppProfile,
      COMMANDS.discoverCustomers,
      COMMANDS.getConsentLink,
      COMMANDS.rotateAppProfileCredentials,
      COMMANDS.rotateCredentials,
      COMMANDS.removeTenant,
    ].map((command) => command.id as string);
    const forAdmins = (when: string | undefined): boolean =>
      when === 'false' || (when !== undefined && when.includes(`${CONTEXT_KEYS.role} != reader`) && when.includes(`${CONTEXT_KEYS.role} != operator`));
    const offenders = [
      ...Object.entries(manifest.contributes.menus).flatMap(([menu, items]) =>
        items.filter((item) => adminOnly.includes(item.command) && !forAdmins(item.when)).map((item) => `${menu}: ${item.command} when ${item.when ?? '(always)'}`),
      ),
      ...manifest.contributes.viewsWelcome
        .filter((welcome) => adminOnly.some((id) => welcome.contents.includes(`command:${id}`)) && !forAdmins(welcome.when))
        .map((welcome) => `welcome when ${welcome.when}`),
    ];
    assert.deepEqual(offenders, []);
  });
});
