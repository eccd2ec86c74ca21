import { MAIN_FILE_SCHEMA_VERSION } from './storeSchema';

/**
 * `store.json` of an earlier schema, brought up to `MAIN_FILE_SCHEMA_VERSION` in memory at open; it is
 * written in the new form with the next change. Each step takes the file one version up.
 */
export function upgradeMainFile(raw: Record<string, unknown>, from: number): Record<string, unknown> {
  let file = raw;
  for (let version = from; version < MAIN_FILE_SCHEMA_VERSION; version++) {
    const step = steps[version];
    if (!step) break;
    file = { ...step(file), schemaVersion: version + 1 };
  }
  return file;
}

const steps: Readonly<Record<number, (file: Record<string, unknown>) => Record<string, unknown>>> = {
  // 1 → 2, app profiles: none yet, and every tenant signs in with its own app.
  1: (file) => ({
    ...file,
    appProfiles: [],
    tenants: Array.isArray(file['tenants'])
      ? (file['tenants'] as unknown[]).map((tenant) => (typeof tenant === 'object' && tenant !== null ? { appProfileId: null, ...tenant } : tenant))
      : file['tenants'],
  }),
};
