export interface CredentialHealthHtmlInputs {
  /** `webview.cspSource`: the origin the page's own files are served from. */
  cspSource: string;
  /** Fresh for every render; only scripts and styles carrying it run. */
  nonce: string;
  /** `webview.asWebviewUri` of dist/webview/credentialHealth.js. */
  scriptUri: string;
}

/** The Content-Security-Policy of the page: nothing but its own script and style, by nonce. */
export function credentialHealthCsp(inputs: Pick<CredentialHealthHtmlInputs, 'cspSource' | 'nonce'>): string {
  return [
    "default-src 'none'",
    `script-src 'nonce-${inputs.nonce}'`,
    `style-src ${inputs.cspSource} 'nonce-${inputs.nonce}'`,
    `font-src ${inputs.cspSource}`,
    `img-src ${inputs.cspSource}`,
  ].join('; ');
}

const STYLE = `
  :root { color-scheme: light dark; }
  body { font-family: var(--vscode-font-family); font-size: var(--vscode-font-size); color: var(--vscode-foreground);
         background: var(--vscode-editor-background); padding: 0 20px 20px; line-height: 1.45; }
  h1 { font-size: 1.4em; font-weight: 600; margin: 16px 0 4px; }
  .banner { background: var(--vscode-inputValidation-errorBackground, #5a1d1d); color: var(--vscode-foreground);
            border: 1px solid var(--vscode-inputValidation-errorBorder, var(--vscode-errorForeground)); border-left-width: 6px;
            padding: 10px 14px; margin-top: 14px; font-weight: 600; }
  .toolbar { display: flex; gap: 12px; align-items: center; flex-wrap: wrap; margin: 8px 0 14px; }
  .note { color: var(--vscode-descriptionForeground); }
  .note.offline { color: var(--vscode-errorForeground); font-weight: 600; }
  .tenant { border: 1px solid var(--vscode-panel-border, rgba(128,128,128,.35)); border-left-width: 4px; border-radius: 2px;
            padding: 10px 14px; margin: 10px 0; }
  .tenant.failing { border-left-color: var(--vscode-errorForeground); }
  .tenant.warning { border-left-color: var(--vscode-list-warningForeground, var(--vscode-editorWarning-foreground)); }
  .tenant.passing { border-left-color: var(--vscode-testing-iconPassed, var(--vscode-charts-green)); }
  .tenant.unchecked { border-left-color: var(--vscode-descriptionForeground); }
  .tenant:focus-within { outline: 1px solid var(--vscode-focusBorder); outline-offset: 2px; }
  .head { display: flex; gap: 10px; align-items: baseline; flex-wrap: wrap; }
  .head h2 { font-size: 1.1em; margin: 0; }
  .head .id { color: var(--vscode-descriptionForeground); }
  .tag { font-size: 0.85em; font-weight: 600; padding: 1px 6px; border-radius: 2px; background: var(--vscode-badge-background);
         color: var(--vscode-badge-foreground); }
  .tag.fail { background: var(--vscode-inputValidation-errorBackground); color: var(--vscode-errorForeground); }
  .tag.warn { background: var(--vscode-inputValidation-warningBackground); color: var(--vscode-foreground); }
  body.vscode-high-contrast .tag, body.vscode-high-contrast-light .tag { border: 1px solid var(--vscode-contrastBorder); }
  .head .actions { margin-left: auto; display: flex; gap: 8px; align-items: center; }
  .result { margin: 6px 0 2px; font-weight: 600; }
  .result.failing, .fail { color: var(--vscode-errorForeground); }
  .result.warning, .warn { color: var(--vscode-list-warningForeground, var(--vscode-editorWarning-foreground)); }
  .result.passing, .ok { color: var(--vscode-testing-iconPassed, var(--vscode-charts-green)); }
  .explain { margin: 6px 0; padding: 6px 10px; background: var(--vscode-textBlockQuote-background); border-left: 3px solid var(--vscode-textBlockQuote-border); }
  .explain p { margin: 2px 0; }
  dl { display: grid; grid-template-columns: max-content 1fr; gap: 2px 14px; margin: 8px 0 0; }
  dt { color: var(--vscode-descriptionForeground); }
  dd { margin: 0; }
  ul.roles { list-style: none; padding: 0; margin: 0; display: flex; flex-wrap: wrap; gap: 4px 16px; }
  .error-text { color: var(--vscode-errorForeground); margin-top: 6px; }
  code { font-family: var(--vscode-editor-font-family); }
  body.vscode-high-contrast .tenant, body.vscode-high-contrast-light .tenant { border-color: var(--vscode-contrastBorder); }
  body.vscode-high-contrast .banner, body.vscode-high-contrast-light .banner { border-color: var(--vscode-contrastActiveBorder, var(--vscode-contrastBorder)); }
`;

/**
 * The credential-health page's HTML: a shell the page script fills with `textContent` only. No tenant
 * data, no daemon address and no token is ever written into it. The `csp-nonce` meta is where FAST (under
 * the webview toolkit) looks for the nonce of the `<style>` it adds to probe `:focus-visible`.
 */
export function credentialHealthHtml(inputs: CredentialHealthHtmlInputs): string {
  const attribute = (value: string): string => value.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${attribute(credentialHealthCsp(inputs))}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<meta property="csp-nonce" content="${attribute(inputs.nonce)}">
<style nonce="${attribute(inputs.nonce)}">${STYLE}</style>
<title>Credential health</title>
</head>
<body>
<div id="banner" class="banner" role="alert" hidden></div>
<h1>Credential health</h1>
<div class="toolbar">
  <vscode-button id="recheck-all" appearance="secondary">Re-check all</vscode-button>
  <span id="summary" class="note" aria-live="polite"></span>
  <span id="connection" class="note" aria-live="polite"></span>
</div>
<main id="rows" aria-busy="true"><p class="note">Loading…</p></main>
<script type="module" nonce="${attribute(inputs.nonce)}" src="${attribute(inputs.scriptUri)}"></script>
</body>
</html>`;
}
