/* The one-tag embed of the migration-reports assistant:

     <script src="http://HOST:8000/widget.js" data-rag-url="http://HOST:8000"></script>

   adds a floating "Ask the reports" button that opens the chat in a panel. The chat is drawn
   in a shadow root (chat.js, chat.css, loaded from next to this file), so that the page's
   styles and the chat's never mix.

   Attributes:
     data-rag-url  the assistant's address (default: where this file comes from). A page on
                   another origin must be listed in the server's RAG_CORS_ORIGINS.
     data-api-key  sent as X-API-Key when the server requires keys (RAG_API_KEYS). Anyone who
                   can view the page can read it: use it on intranet pages only. */
(function () {
  "use strict";

  const script = document.currentScript;
  if (!script || script.dataset.ragMounted) return;
  script.dataset.ragMounted = "true";
  const assetsUrl = new URL(".", new URL(script.src, document.baseURI)).href;
  const baseUrl = script.dataset.ragUrl || assetsUrl;
  const apiKey = script.dataset.apiKey || null;

  function start() {
    const host = document.createElement("gcm-rag-widget");
    document.body.appendChild(host);
    window.GcmRagChat.mount(host, { mode: "widget", baseUrl, assetsUrl, apiKey });
  }

  function whenDocumentReady(callback) {
    if (document.readyState === "loading") {
      document.addEventListener("DOMContentLoaded", callback, { once: true });
    } else {
      callback();
    }
  }

  if (window.GcmRagChat) {
    whenDocumentReady(start);
    return;
  }
  const chat = document.createElement("script");
  chat.src = `${assetsUrl}chat.js`;
  chat.addEventListener("load", () => whenDocumentReady(start));
  chat.addEventListener("error", () => {
    console.error(`GCM assistant: could not load ${chat.src}; is the assistant running?`);
  });
  document.head.appendChild(chat);
})();
