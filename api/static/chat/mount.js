/* Putting the chat on a page, the last of the chat's files: `GcmRagChat.mount(host, options)`
   draws it inside a shadow root of `host`, so that its styles (chat.css) and the page's never
   meet; as the widget, behind a floating "Ask the reports" button that opens it in a panel.
   This file completes the one global: `GcmRagChat.mount`, and `locateQuote` and
   `answerWithReferences` (text.js). */
(function (GcmRagChat) {
  "use strict";

  if (GcmRagChat.mount) return;

  const parts = GcmRagChat.parts;
  const { h, chatIcon } = parts.dom;
  const { locateQuote, answerWithReferences } = parts.text;
  const { panelWasOpen, rememberPanelOpen } = parts.storage;
  const { Chat } = parts;

  /* Draw the chat in a shadow root of `host`. options: baseUrl (the API, no trailing slash),
     assetsUrl (where chat.css is, ending in '/'), apiKey (optional), mode "page" or "widget". */
  function mount(host, options) {
    const settings = {
      baseUrl: (options.baseUrl || "").replace(/\/+$/, ""),
      apiKey: options.apiKey || null,
      mode: options.mode === "page" ? "page" : "widget",
    };
    const shadow = host.attachShadow({ mode: "open" });
    const root = h("div", { class: "root", hidden: true });
    // Shown once its styles are in, so that the page never flashes an unstyled chat; then
    // a conversation kept from before a reload opens at its latest answer.
    const styles = h("link", { rel: "stylesheet", href: `${options.assetsUrl || ""}chat.css` });
    let chat = null;
    const reveal = () => {
      root.hidden = false;
      if (chat) chat.onShown();
    };
    styles.addEventListener("load", reveal);
    styles.addEventListener("error", reveal);
    shadow.append(styles, root);
    if (settings.mode === "page") {
      chat = new Chat(shadow, settings);
      root.appendChild(chat.element);
      chat.loadLimits();
      chat.loadDocuments();
      return chat;
    }
    chat = mountWidget(shadow, root, settings);
    return chat;
  }

  /* The floating button and the panel (a non-modal dialog) around the chat. */
  function mountWidget(shadow, root, settings) {
    const panelId = "panel"; // ids are scoped to the shadow root
    const launcher = h(
      "button",
      {
        type: "button",
        class: "launcher",
        "aria-expanded": "false",
        "aria-controls": panelId,
        "aria-haspopup": "dialog",
      },
      chatIcon(),
      "Ask the reports"
    );
    const panel = h("div", { class: "panel", id: panelId, role: "dialog", "aria-modal": "false", hidden: true });
    const setOpen = (open, focus) => {
      // The limit and the documents are asked for when the chat is first opened, not on
      // every page view.
      if (open) {
        chat.loadLimits();
        chat.loadDocuments();
      }
      panel.hidden = !open;
      // A hidden panel keeps no scroll position: it opens at the latest answer.
      if (open) chat.onShown();
      launcher.setAttribute("aria-expanded", open ? "true" : "false");
      rememberPanelOpen(settings.baseUrl, open);
      if (focus) {
        if (open) chat.focusInput();
        else launcher.focus();
      }
    };
    const chat = new Chat(shadow, { ...settings, onClose: () => setOpen(false, true) });
    panel.setAttribute("aria-labelledby", chat.titleId);
    panel.appendChild(chat.element);
    panel.addEventListener("keydown", (event) => {
      if (event.key === "Escape") {
        event.stopPropagation();
        setOpen(false, true);
      }
    });
    launcher.addEventListener("click", () => setOpen(panel.hidden, true));
    root.append(launcher, panel);
    if (panelWasOpen(settings.baseUrl)) setOpen(true, false);
    chat.open = () => setOpen(true, true);
    chat.close = () => setOpen(false, true);
    return chat;
  }

  Object.assign(GcmRagChat, { mount, locateQuote, answerWithReferences });
})(window.GcmRagChat);
