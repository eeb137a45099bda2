/** The console's HTML: an escaping template tag, the shared layout with its tab bar, and small form helpers. */
import { createHash } from 'node:crypto'

/** HTML that is already safe to insert (built by `html`); anything else is escaped on the way in. */
export class SafeHtml {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value
  }
}

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
}

/** @example escapeHtml('<b>') // '&lt;b&gt;' */
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c)
}

function render(value: unknown): string {
  if (value instanceof SafeHtml) return value.value
  if (Array.isArray(value)) return value.map(render).join('')
  if (value === null || value === undefined || value === false) return ''
  return escapeHtml(String(value))
}

/**
 * A template tag that escapes every interpolated value unless it is SafeHtml (or an array of it),
 * so a page cannot forget to escape: there is no way to interpolate a raw string.
 *
 * @example html`<td>${user.email}</td>`
 */
export function html(strings: TemplateStringsArray, ...values: unknown[]): SafeHtml {
  let out = strings[0] ?? ''
  values.forEach((value, i) => {
    out += render(value) + (strings[i + 1] ?? '')
  })
  return new SafeHtml(out)
}

export type Tab = 'administration' | 'users' | 'support' | 'activity'

/** Who is signed in, for the header, and the CSRF token every form carries. */
export interface PageContext {
  tenantName: string
  adminEmail: string
  csrf: string
}

export interface PageOptions {
  title: string
  tab?: Tab
  context?: PageContext
  body: SafeHtml
  /** Shown in a red box above the body (bad input, not found). */
  error?: string | undefined
  /** Shown in a green box above the body (a change went through). */
  notice?: string | undefined
}

const TABS: ReadonlyArray<[Tab, string, string]> = [
  ['administration', 'Administration', '/console/administration'],
  ['users', 'Identity Management', '/console/users'],
  ['support', 'Support', '/console/support'],
  ['activity', 'Activity', '/console/activity'],
]

const STYLE = `
*{box-sizing:border-box}
body{margin:0;font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1f2933;background:#f5f7fa}
header{background:#1f3a5f;color:#fff;padding:.6rem 1.5rem;display:flex;flex-wrap:wrap;align-items:center;gap:.5rem 1.5rem}
header .brand{font-weight:600;font-size:1.1rem}
header .who{margin-left:auto;font-size:.9rem;display:flex;gap:.75rem;align-items:center}
header .who button{background:transparent;color:#fff;border:1px solid #8aa4c8}
nav.tabs{background:#fff;border-bottom:1px solid #d9e2ec;padding:0 1.5rem;display:flex;flex-wrap:wrap;gap:.25rem}
nav.tabs a{padding:.7rem 1rem;color:#486581;text-decoration:none;border-bottom:3px solid transparent}
nav.tabs a.active{color:#1f3a5f;border-bottom-color:#1f3a5f;font-weight:600}
nav.sub{display:flex;flex-wrap:wrap;gap:.25rem 1rem;margin-bottom:1rem}
nav.sub a{color:#486581}
nav.sub a.active{color:#1f2933;font-weight:600;text-decoration:none}
main{max-width:1240px;margin:1.5rem auto;padding:0 1.5rem}
h1{font-size:1.4rem;margin:.2rem 0 1rem}
h2{font-size:1.1rem;margin:1.5rem 0 .6rem}
section.card{background:#fff;border:1px solid #d9e2ec;border-radius:6px;padding:1rem 1.25rem;margin-bottom:1.25rem;overflow-x:auto}
section.card>h2:first-child{margin-top:0}
table{border-collapse:collapse;width:100%;font-size:.92rem}
th,td{text-align:left;padding:.4rem .5rem;border-bottom:1px solid #e4e7eb;vertical-align:top}
th{color:#52606d;font-weight:600;background:#f8fafc}
form.inline{display:inline}
form.stack{display:grid;grid-template-columns:max-content minmax(220px,420px);gap:.5rem .8rem;align-items:center}
form.stack .actions{grid-column:2}
input[type=text],input[type=email],input[type=password],select{padding:.35rem .5rem;border:1px solid #bcccdc;border-radius:4px;font:inherit;width:100%}
button{padding:.35rem .9rem;border-radius:4px;border:1px solid #1f3a5f;background:#1f3a5f;color:#fff;font:inherit;cursor:pointer}
button.secondary{background:#fff;color:#1f3a5f}
button.danger{background:#fff;color:#b42318;border-color:#b42318}
.error{background:#fde8e8;border:1px solid #f5b5b5;color:#8a1c1c;padding:.6rem .9rem;border-radius:4px;margin-bottom:1rem}
.notice{background:#e3f9e5;border:1px solid #a3d9a5;color:#1e5e24;padding:.6rem .9rem;border-radius:4px;margin-bottom:1rem}
.secret{font-family:ui-monospace,Menlo,monospace;background:#fffbea;border:1px dashed #e9b949;padding:.6rem;overflow-wrap:anywhere}
code,.mono{font-family:ui-monospace,Menlo,monospace;font-size:.88rem;overflow-wrap:anywhere}
button.copy{margin-left:.5rem;padding:.1rem .5rem;font-size:.8rem}
.muted{color:#7b8794}
.badge{display:inline-block;padding:0 .45rem;border-radius:9px;font-size:.8rem;background:#e4e7eb}
.badge.ok{background:#e3f9e5;color:#1e5e24}.badge.bad{background:#fde8e8;color:#8a1c1c}
pre{background:#f8fafc;border:1px solid #e4e7eb;padding:.75rem;overflow:auto;font-size:.85rem}
.login{max-width:380px;margin:4rem auto}
nav.pager{display:flex;gap:1.5rem;margin-top:.8rem}
form.filters{display:flex;flex-wrap:wrap;gap:.5rem .8rem;align-items:end;margin-bottom:.8rem}
form.filters label{display:flex;flex-direction:column;font-size:.85rem;color:#52606d}
form.filters select,form.filters input{width:auto;padding:.35rem .5rem;border:1px solid #bcccdc;border-radius:4px;font:inherit}
form.filters input[type=submit]{background:#fff;color:#1f3a5f;border-color:#1f3a5f;cursor:pointer}
@media (max-width:640px){
header,nav.tabs{padding:.4rem .75rem}
nav.tabs a{padding:.5rem .6rem}
main{padding:0 .75rem}
section.card{padding:.75rem}
form.stack{grid-template-columns:minmax(0,1fr)}
form.stack .actions{grid-column:1}
}
`

/**
 * The console's one script: a button `data-copy="ID"` copies the text of the element with that id. Allowed
 * by its hash in the console's Content-Security-Policy (COPY_SCRIPT_CSP), so no other script can run.
 */
const COPY_SCRIPT =
  "document.addEventListener('click',function(e){var b=e.target.closest&&e.target.closest('button[data-copy]');" +
  "if(!b)return;var t=document.getElementById(b.getAttribute('data-copy'));if(!t)return;" +
  "navigator.clipboard.writeText(t.textContent.trim()).then(function(){b.textContent='Copied'}," +
  "function(){b.textContent='Select and copy'})})"

/** The CSP source that allows COPY_SCRIPT and nothing else. */
export const COPY_SCRIPT_CSP = `'sha256-${createHash('sha256').update(COPY_SCRIPT).digest('base64')}'`

/**
 * A value shown with a Copy button: `<code id=…>value</code><button data-copy=…>`.
 *
 * @example copyable(`url-${endpoint}`, url, { 'data-url': endpoint })
 */
export function copyable(id: string, value: string, attributes: Record<string, string> = {}): SafeHtml {
  const extra = Object.entries(attributes).map(
    ([name, v]) => html` ${new SafeHtml(name.replace(/[^a-z-]/g, ''))}="${v}"`,
  )
  return html`<code id="${id}"${extra}>${value}</code><button type="button" class="secondary copy" data-copy="${id}">Copy</button>`
}

/** A POSTing button with the CSRF field: every state change in the console is a form like this. */
export function postButton(action: string, label: string, csrf: string, kind = 'secondary'): SafeHtml {
  return html`<form class="inline" method="post" action="${action}">${csrfField(csrf)}<button type="submit" class="${kind}">${label}</button></form>`
}

/** The hidden CSRF field for a hand-written form. */
export function csrfField(csrf: string): SafeHtml {
  return html`<input type="hidden" name="_csrf" value="${csrf}">`
}

/** `2026-11-29T11:39:31.123Z` → `2026-11-29 11:39 UTC`; empty for null. */
export function when(iso: string | null): string {
  if (iso === null) return ''
  return `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`
}

/**
 * An email or other long name that may wrap at its separators (after `.`, `-`, `_`, before `@`), not mid-word:
 * a table of such values then fits a desktop screen.
 *
 * @example wrappable('jane.doe@acme.example.com') // jane.<wbr>doe<wbr>@acme.<wbr>example.<wbr>com
 */
export function wrappable(text: string): SafeHtml {
  return new SafeHtml(
    escapeHtml(text)
      .replace(/([._-])/g, '$1<wbr>')
      .replace(/@/g, '<wbr>@'),
  )
}

export function badge(text: string, good: boolean): SafeHtml {
  return html`<span class="badge ${good ? 'ok' : 'bad'}">${text}</span>`
}

/**
 * The whole page: header with the tenant and the signed-in administrator, the tab bar, messages, body.
 *
 * @example reply.type('text/html').send(layout({ title: 'Users', tab: 'users', context, body }))
 */
export function layout(options: PageOptions): string {
  const { context } = options
  const tabs =
    context === undefined
      ? html``
      : html`<nav class="tabs">${TABS.map(
          ([tab, label, href]) =>
            html`<a href="${href}" class="${tab === options.tab ? 'active' : ''}">${label}</a>`,
        )}</nav>`
  const who =
    context === undefined
      ? html``
      : html`<div class="who"><span>${context.adminEmail}</span>${postButton('/console/logout', 'Sign out', context.csrf, 'secondary')}</div>`
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${options.title} · OptimalCloud console</title>
<style>${new SafeHtml(STYLE)}</style>
<script>${new SafeHtml(COPY_SCRIPT)}</script>
</head>
<body>
<header><span class="brand">OptimalCloud</span>${context === undefined ? '' : html`<span>${context.tenantName}</span>`}${who}</header>
${tabs}
<main>
${options.error === undefined ? '' : html`<div class="error" role="alert">${options.error}</div>`}
${options.notice === undefined ? '' : html`<div class="notice" role="status">${options.notice}</div>`}
${options.body}
</main>
</body>
</html>
`.value
}
