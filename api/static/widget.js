/* The one-tag embed of the migration-reports assistant:

     <script src="http://HOST:8000/widget.js" data-rag-url="http://HOST:8000"></script>

   adds a floating "Ask the reports" button that opens the chat in a panel. The chat is drawn
   in a shadow root (the scripts of chat/ and chat.css, loaded from next to this file), so
   that the page's styles and the chat's never mix.

   The chat's scripts are classic ones, not ES modules: a module from another origin needs
   CORS, so a page missing from RAG_CORS_ORIGINS would get no widget at all, where it should
   get one that says it cannot reach the assistant.

   Attributes:
     data-rag-url  the assistant's address (default: where this file comes from). A page on
                   another origin must be listed in the server's RAG_CORS_ORIGINS.
     data-api-key  sent as X-API-Key when the server requires keys (RAG_API_KEYS). Anyone who
                   can view the page can read it: use it on intranet pages only. Without
                   it, the chat asks the reader for a key (chat/access.js). */
(function () {
  "use strict";

  const script = document.currentScript;
  if (!script || script.dataset.ragMounted) return;
  script.dataset.ragMounted = "true";
  const assetsUrl = new URL(".", new URL(script.src, document.baseURI)).href;
  const baseUrl = script.dataset.ragUrl || assetsUrl;
  const apiKey = script.dataset.apiKey || null;
  // The chat's files, in the order they run; index.html lists the same.
  const CHAT_FILES = [
    "chat/dom.js",
    "chat/text.js",
    "chat/api.js",
    "chat/answers.js",
    "chat/storage.js",
    "chat/composer.js",
    "chat/access.js",
    "chat/reader.js",
    "chat/chat.js",
    "chat/mount.js",
  ];

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

  if (window.GcmRagChat && window.GcmRagChat.mount) {
    whenDocumentReady(start);
    return;
  }
  // Fetched together, run in this order (async = false): each needs the ones before it.
  let failed = false;
  CHAT_FILES.forEach((name, i) => {
    const part = document.createElement("script");
    part.src = `${assetsUrl}${name}`;
    part.async = false;
    part.addEventListener("error", () => {
      if (!failed) {
        console.error(`GCM assistant: could not load ${part.src}; is the assistant running?`);
      }
      failed = true;
    });
    if (i === CHAT_FILES.length - 1) {
      part.addEventListener("load", () => {
        if (!failed) whenDocumentReady(start);
      });
    }
    document.head.appendChild(part);
  });
})();
