/* What the chat remembers for the browser tab (sessionStorage, so that a reload keeps it and
   closing the tab forgets it): the conversation's settled turns, and whether the widget's
   panel was open. Keys hold the API's address, so that two assistants never share a
   conversation. A browser that refuses storage just gets a chat that forgets on reload. */
(function (parts) {
  "use strict";

  if (parts.storage) return;

  const STORAGE_PREFIX = "gcm-rag-chat:";
  const MAX_STORED_TURNS = 30;

  /* The settled {question, answer, scope} turns of the conversation with `baseUrl`. */
  class ConversationStore {
    constructor(baseUrl) {
      this.key = `${STORAGE_PREFIX}${baseUrl}`;
    }

    load() {
      try {
        const stored = JSON.parse(sessionStorage.getItem(this.key) || "[]");
        if (Array.isArray(stored)) return stored.filter((t) => t && t.answer);
      } catch (_) {
        // Unreadable: start afresh.
      }
      return [];
    }

    /* Keep the last MAX_STORED_TURNS of `turns`, and return them. */
    save(turns) {
      const kept = turns.slice(-MAX_STORED_TURNS);
      try {
        sessionStorage.setItem(this.key, JSON.stringify(kept));
      } catch (_) {
        // Storage full or refused: the conversation just won't survive a reload.
      }
      return kept;
    }

    clear() {
      try {
        sessionStorage.removeItem(this.key);
      } catch (_) {
        // Nothing stored.
      }
    }
  }

  /* Whether the widget's panel for `baseUrl` was left open in this tab. */
  function panelWasOpen(baseUrl) {
    try {
      return sessionStorage.getItem(panelKey(baseUrl)) === "1";
    } catch (_) {
      return false;
    }
  }

  function rememberPanelOpen(baseUrl, open) {
    try {
      sessionStorage.setItem(panelKey(baseUrl), open ? "1" : "0");
    } catch (_) {
      // Not remembered: fine.
    }
  }

  function panelKey(baseUrl) {
    return `${STORAGE_PREFIX}open:${baseUrl}`;
  }

  parts.storage = { ConversationStore, panelWasOpen, rememberPanelOpen };
})(window.GcmRagChat.parts);
