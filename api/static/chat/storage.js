/* What the chat remembers for the browser tab (sessionStorage, so that a reload keeps it and
   closing the tab forgets it): the conversation's settled turns, whether the widget's panel
   was open, and the access key the reader entered. Keys hold the API's address, so that two
   assistants never share a conversation or a key. A browser that refuses storage just gets a
   chat that forgets on reload. */
(function (parts) {
  "use strict";

  if (parts.storage) return;

  const STORAGE_PREFIX = "gcm-rag-chat:";
  // Apart from the conversations' prefix: whatever reads those back never meets the key.
  const KEY_PREFIX = "gcm-rag-key:";
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

  /* The access key entered for `baseUrl` in this tab, or null. */
  function storedKey(baseUrl) {
    try {
      return sessionStorage.getItem(`${KEY_PREFIX}${baseUrl}`);
    } catch (_) {
      return null;
    }
  }

  /* Keep `key` for `baseUrl` for the tab's session; null forgets it. */
  function rememberKey(baseUrl, key) {
    try {
      if (key) sessionStorage.setItem(`${KEY_PREFIX}${baseUrl}`, key);
      else sessionStorage.removeItem(`${KEY_PREFIX}${baseUrl}`);
    } catch (_) {
      // Not kept: the reader enters it again after a reload.
    }
  }

  parts.storage = { ConversationStore, panelWasOpen, rememberPanelOpen, storedKey, rememberKey };
})(window.GcmRagChat.parts);
