import { Vault } from '../../daemon/vault/vault';

/**
 * Opens vaults for a test and closes every one of them after it, those standing for a crash included,
 * so that no journal handle is left for the collector to close (Node warns when it does).
 */
export class OpenedVaults {
  private readonly vaults: Vault[] = [];

  async open(dir: string): Promise<Vault> {
    const vault = await Vault.open(dir);
    this.vaults.push(vault);
    return vault;
  }

  async closeAll(): Promise<void> {
    for (const vault of this.vaults.splice(0)) await vault.close().catch(() => undefined);
  }
}
