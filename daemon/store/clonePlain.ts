/**
 * A deep copy of plain JSON-shaped data (objects, arrays, strings, numbers, booleans, null), as the file
 * store keeps its records. Several times faster than `structuredClone` for small records, which mattered
 * when a tenant was copied half a dozen times per poll round; a round now reads it with `readTenant` and
 * copies it once, for its event.
 */
export function clonePlain<T>(value: T): T {
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) return value.map((item: unknown) => clonePlain(item)) as T;
  const copy: Record<string, unknown> = {};
  for (const key of Object.keys(value)) copy[key] = clonePlain((value as Record<string, unknown>)[key]);
  return copy as T;
}
