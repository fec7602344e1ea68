// The login page: one field for an API token from the policy (viewer, operator or admin).
import { html, type Html } from './html.js';

export function loginPage(opts: { csrf: string; next: string; error: string | null }): Html {
  return html`<h1>Log in</h1>
  <form class="login" method="post" action="/login">
    <input type="hidden" name="_csrf" value="${opts.csrf}">
    <input type="hidden" name="next" value="${opts.next}">
    ${opts.error ? html`<p class="error" role="alert" id="login-error">${opts.error}</p>` : ''}
    <label for="token">API token</label>
    <input id="token" name="token" type="password" autocomplete="current-password" required autofocus ${opts.error ? html`aria-describedby="login-error"` : ''}>
    <p class="muted">A token from the policy's <code>auth.tokens</code> (viewer, operator or admin). It is checked once; the browser then holds only a session cookie.</p>
    <button type="submit" class="primary">Log in</button>
  </form>`;
}
