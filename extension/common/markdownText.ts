/**
 * Escapes text from a tenant (display names, Graph's messages) for a Markdown tooltip, so that
 * `*`, `[link](command:…)` or `<img>` show as the characters they are. Angle brackets and ampersands
 * become entities, not backslash escapes: VS Code turns a tree tooltip into plain text for the row's
 * accessible name and passes that through an HTML sanitizer, where `\<img …>` would be parsed as markup.
 */
export function markdownText(value: string): string {
  return value
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/[\\`*_{}[\]()#+\-.!|~]/g, (character) => `\\${character}`)
    .replace(/\r?\n/g, ' ');
}
