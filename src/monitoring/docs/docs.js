// Starts Swagger UI on the router's own OpenAPI document (`openapi.json`, relative to the page, so
// any mount prefix works). The document is behind the router's auth when it has one: the token is
// the dashboard's (same sessionStorage key), asked for here when the document answers 401, and
// sent with every same-origin request the page makes. Nothing leaves the origin: no validator.
(() => {
  const TOKEN_KEY = 'revcopy-enterprise:monitoring-token';
  const DOCUMENT = 'openapi.json';
  const $ = (id) => document.getElementById(id);

  let token = null;
  try {
    token = sessionStorage.getItem(TOKEN_KEY);
  } catch {
    // Storage can be disabled; the token then lasts as long as the page.
  }

  const sameOrigin = (url) => new URL(url, location.href).origin === location.origin;

  /** Shows the token form and resolves with the token entered. */
  function askForToken(refused) {
    const form = $('docs-auth');
    $('docs-auth-error').hidden = !refused;
    form.hidden = false;
    $('docs-token').value = '';
    $('docs-token').focus();
    return new Promise((resolve) => {
      const submit = (event) => {
        event.preventDefault();
        const value = $('docs-token').value.trim();
        if (!value) return;
        form.removeEventListener('submit', submit);
        form.hidden = true;
        resolve(value);
      };
      form.addEventListener('submit', submit);
    });
  }

  /** Reads the document once with the token, asking for one while it answers 401. */
  async function checkAccess() {
    for (;;) {
      const headers = token ? { authorization: `Bearer ${token}` } : {};
      const response = await fetch(DOCUMENT, { headers, cache: 'no-store' });
      await response.body?.cancel();
      if (response.status !== 401) return response.ok;
      token = await askForToken(token !== null);
      try {
        sessionStorage.setItem(TOKEN_KEY, token);
      } catch {
        // See above: without storage the token is kept in memory only.
      }
    }
  }

  function start() {
    globalThis.SwaggerUIBundle({
      url: DOCUMENT,
      dom_id: '#swagger-ui',
      presets: [globalThis.SwaggerUIBundle.presets.apis],
      layout: 'BaseLayout',
      // Swagger UI would otherwise send the document to validator.swagger.io.
      validatorUrl: null,
      deepLinking: true,
      requestInterceptor: (request) => {
        const named = Object.keys(request.headers ?? {}).some(
          (name) => name.toLowerCase() === 'authorization',
        );
        // A token entered in Swagger UI's own "Authorize" dialog wins over the stored one.
        if (token && !named && sameOrigin(request.url)) {
          request.headers = { ...request.headers, authorization: `Bearer ${token}` };
        }
        return request;
      },
    });
  }

  checkAccess().then(
    (ok) => {
      if (!ok) {
        $('docs-error').textContent = 'The API document could not be read.';
        $('docs-error').hidden = false;
      }
      start();
    },
    (error) => {
      $('docs-error').textContent = `The API document could not be read: ${error.message}`;
      $('docs-error').hidden = false;
    },
  );
})();
