import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { engineerRoles } from '../../../protocol/daemonApi';
import type { CommandSpec } from '../../../extension/common/commandTable';
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

  it("asks for the role the daemon's routes need: admin to add, onboard, rotate and remove; operator to lock and unlock", () => {
    const needs = Object.fromEntries(table.flatMap((command: CommandSpec) => (command.needs ? [[command.id, command.needs.role]] : [])));
    assert.deepEqual(needs, {
      [COMMANDS.lockUser.id]: 'operator',
      [COMMANDS.unlockUser.id]: 'operator',
      [COMMANDS.addTenant.id]: 'admin',
      [COMMANDS.addTenantsFromFile.id]: 'admin',
      [COMMANDS.addAppProfile.id]: 'admin',
      [COMMANDS.discoverCustomers.id]: 'admin',
      [COMMANDS.getConsentLink.id]: 'admin',
      [COMMANDS.rotateAppProfileCredentials.id]: 'admin',
      [COMMANDS.rotateCredentials.id]: 'admin',
      [COMMANDS.removeTenant.id]: 'admin',
    });
  });

  it('offers a command in menus and welcome links only to the roles its table entry allows', () => {
    const needed = new Map(table.flatMap((command: CommandSpec) => (command.needs ? [[command.id as string, command.needs.role]] : [])));
    // Every role below the one needed is excluded by name: the key is `unknown` until a session is read.
    const allows = (id: string, when: string | undefined): boolean => {
      const role = needed.get(id);
      if (role === undefined || when === 'false') return true;
      const below = engineerRoles.slice(0, engineerRoles.indexOf(role));
      return when !== undefined && below.every((lower) => when.includes(`${CONTEXT_KEYS.role} != ${lower}`));
    };
    const offenders = [
      ...Object.entries(manifest.contributes.menus).flatMap(([menu, items]) =>
        items.filter((item) => !allows(item.command, item.when)).map((item) => `${menu}: ${item.command} when ${item.when ?? '(always)'}`),
      ),
      ...manifest.contributes.viewsWelcome.flatMap((welcome) =>
        [...welcome.contents.matchAll(/command:(m365Status\.[A-Za-z]+)/g)]
          .filter((match) => !allows(match[1] as string, welcome.when))
          .map((match) => `welcome ${match[1]} when ${welcome.when}`),
      ),
    ];
    assert.deepEqual(offenders, []);
  });
});
