/* The chat with the migration-reports assistant: the one implementation behind the full page
   at / and the embeddable widget (widget.js).

   `GcmRagChat.mount(host, options)` draws the chat inside a shadow root of `host`, so that its
   styles (chat.css) and the page's never meet. Questions go to POST /api/ask with
   "stream": true; the server-sent events are read from the fetch body, since EventSource
   cannot POST. The `token` events are the model's unverified draft and are never shown:
   officials must be able to trust every sentence on screen, and verification often drops or
   re-cites what the model wrote. Until the `done` event brings the verified answer, a status
   says that the answer is being checked.

   Questions are held to the API's length limit, read from GET /api/health
   (`max_question_chars`): a counter shows it, and a longer question is not sent. The limit
   is not put in `maxlength`, which cuts pasted text without a word: a question cut short
   would be answered as if it were whole.

   With more than one document indexed (GET /api/documents), a "Search in" list above the
   box limits a question to one report: it is sent as `"documents": [id]`, and the question
   and any refusal say which report was searched. With one document the list stays hidden.

   Everything from the server or the user is put in as text (createTextNode, textContent),
   never parsed as HTML. The conversation is kept in sessionStorage, so that it survives a
   reload in the same tab; "New conversation" clears it.

   No build step: plain ES2020, one global (`GcmRagChat`). */
(function () {
  "use strict";

  if (window.GcmRagChat) return;

  const STORAGE_PREFIX = "gcm-rag-chat:";
  const MAX_STORED_TURNS = 30;
  const ABSTENTION_HEADING = "The indexed reports do not answer this";
  const ABSTENTION_HEADING_CHOSEN = "The chosen report does not answer this";
  const ALL_REPORTS = "All reports";
  const EXAMPLE_QUESTION = "Which states regularised migrants during COVID?";
  const CITATION_MARKER = /\[(\d+)\]/g;
  const SEARCHING = "Searching the reports…";
  const CHECKING = "Checking the answer against the reports…";

  let instances = 0;

  // --- building elements from text only ------------------------------------------------------

  /* An element with attributes and children; string children become text nodes. */
  function h(tag, attributes, ...children) {
    const element = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (name === "class") element.className = value;
      else if (name.startsWith("on")) element.addEventListener(name.slice(2), value);
      else element.setAttribute(name, value === true ? "" : String(value));
    }
    append(element, children);
    return element;
  }

  /* A speech-bubble icon, drawn rather than an emoji: not every system has an emoji font. */
  function chatIcon() {
    const svgNs = "http://www.w3.org/2000/svg";
    const svg = document.createElementNS(svgNs, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("width", "1.3em");
    svg.setAttribute("height", "1.3em");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    const path = document.createElementNS(svgNs, "path");
    path.setAttribute("d", "M4 4h16a2 2 0 0 1 2 2v9a2 2 0 0 1-2 2H10l-5 4v-4H4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z");
    path.setAttribute("fill", "currentColor");
    svg.appendChild(path);
    return svg;
  }

  function append(parent, children) {
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      parent.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    }
    return parent;
  }

  // --- talking to the API ----------------------------------------------------------------------

  /* A failure the chat explains to the reader: `kind` picks the wording. */
  class ChatError extends Error {
    constructor(kind, title, detail, retryAfter) {
      super(detail ? `${title} ${detail}` : title);
      this.kind = kind; // unreachable, busy, invalid, too_long, unauthorized, unavailable, interrupted
      this.title = title;
      this.detail = detail || "";
      this.retryAfter = retryAfter || null;
    }
  }

  function requestHeaders(options) {
    const headers = { "Content-Type": "application/json", Accept: "text/event-stream" };
    if (options.apiKey) headers["X-API-Key"] = options.apiKey;
    return headers;
  }

  /* POST the question (asked of the document `scope.doc` only, when given) and call
     `onEvent(name, data)` for each server-sent event. */
  async function askStreaming(options, question, scope, onEvent, signal) {
    const body = { question, stream: true };
    if (scope) body.documents = [scope.doc];
    let response;
    try {
      response = await fetch(`${options.baseUrl}/api/ask`, {
        method: "POST",
        headers: requestHeaders(options),
        body: JSON.stringify(body),
        signal,
      });
    } catch (error) {
      if (error.name === "AbortError") throw error;
      throw new ChatError(
        "unreachable",
        "The assistant cannot be reached.",
        `No answer from ${options.baseUrl}: the server may be stopped or the network down, ` +
          "or the server does not accept requests from this page (RAG_CORS_ORIGINS). " +
          "Try again in a moment, or tell whoever runs the assistant."
      );
    }
    if (!response.ok) throw await errorFromResponse(response);
    try {
      await readEventStream(response.body, onEvent);
    } catch (error) {
      if (error.name === "AbortError" || error instanceof ChatError) throw error;
      throw new ChatError(
        "interrupted",
        "The connection was lost before the answer was complete.",
        "Try again."
      );
    }
  }

  /* The reader's version of an error answer (`{"error", "fix"}` from /api). */
  async function errorFromResponse(response) {
    let body = {};
    try {
      body = await response.json();
    } catch (_) {
      body = {};
    }
    const message = typeof body.error === "string" ? body.error : response.statusText;
    const fix = typeof body.fix === "string" ? body.fix : "";
    const detail = [sentence(message), sentence(fix)].filter(Boolean).join(" ");
    if (response.status === 503 && response.headers.get("Retry-After")) {
      const seconds = parseInt(response.headers.get("Retry-After"), 10) || 1;
      return new ChatError(
        "busy",
        "The assistant is busy answering other questions.",
        `Try again in ${seconds} second${seconds === 1 ? "" : "s"}.`,
        seconds
      );
    }
    if (body.rule === "string_too_long" && body.field === "question") {
      // The reader's limit message replaces the validator's wording (see Chat.ask).
      return new ChatError("too_long", "This question is too long; shorten it.");
    }
    if (response.status === 401 || response.status === 403) {
      return new ChatError("unauthorized", "This page may not use the assistant.", detail);
    }
    if (response.status >= 400 && response.status < 500) {
      return new ChatError("invalid", "The question could not be answered as sent.", detail);
    }
    return new ChatError("unavailable", "The assistant cannot answer right now.", detail);
  }

  /* Numbers as the chat's messages write them: 2000 as "2,000". */
  function formatNumber(number) {
    return number.toLocaleString("en");
  }

  /* Characters as the API counts them (code points: an emoji is one, not two). */
  function characters(text) {
    return [...text].length;
  }

  function sentence(text) {
    text = (text || "").trim();
    if (!text) return "";
    return /[.!?]$/.test(text) ? text : `${text}.`;
  }

  /* Read `text/event-stream` blocks ("event: NAME", "data: JSON", blank line) as they arrive. */
  async function readEventStream(body, onEvent) {
    const reader = body.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      buffer += done ? decoder.decode() : decoder.decode(value, { stream: true });
      buffer = buffer.replace(/\r\n?/g, "\n");
      let boundary;
      while ((boundary = buffer.indexOf("\n\n")) >= 0) {
        dispatchEventBlock(buffer.slice(0, boundary), onEvent);
        buffer = buffer.slice(boundary + 2);
      }
      if (done) break;
    }
    if (buffer.trim()) dispatchEventBlock(buffer, onEvent);
  }

  function dispatchEventBlock(block, onEvent) {
    let name = "message";
    const data = [];
    for (const line of block.split("\n")) {
      if (line.startsWith("event:")) name = line.slice(6).trim();
      else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
    }
    if (data.length) onEvent(name, JSON.parse(data.join("\n")));
  }

  function passageUrl(baseUrl, anchor) {
    // '#' must travel as %23: a bare '#' would start the URL's fragment.
    return `${baseUrl}/api/passages/${encodeURIComponent(anchor)}`;
  }

  // --- text helpers ------------------------------------------------------------------------------

  /* Where `quote` is in `text`, compared as plain text with runs of whitespace as one space
     (then ignoring case): [start, end) in `text`, or null. */
  function locateQuote(text, quote) {
    const wanted = (quote || "").replace(/\s+/g, " ").trim();
    if (!wanted) return null;
    let flat = "";
    const origin = []; // origin[i]: index in `text` of flat[i]
    let inSpace = false;
    for (let i = 0; i < text.length; i++) {
      if (/\s/.test(text[i])) {
        if (!inSpace && flat) {
          flat += " ";
          origin.push(i);
        }
        inSpace = true;
      } else {
        flat += text[i];
        origin.push(i);
        inSpace = false;
      }
    }
    let at = flat.indexOf(wanted);
    if (at < 0) at = flat.toLowerCase().indexOf(wanted.toLowerCase());
    if (at < 0) return null;
    return [origin[at], origin[at + wanted.length - 1] + 1];
  }

  function describeSource(source) {
    const parts = [source.doc_title || source.doc];
    if (source.section) parts.push(source.section);
    if (source.page !== null && source.page !== undefined) parts.push(`p. ${source.page}`);
    return parts.join(" — ");
  }

  /* The answer and its numbered references, as plain text for a briefing note. */
  function answerWithReferences(answer) {
    const lines = [`Question: ${answer.question}`, ""];
    if (answer.abstained) {
      lines.push(`${ABSTENTION_HEADING}.`);
      if (answer.abstention_reason) lines.push(`Why: ${sentence(answer.abstention_reason)}`);
      if (answer.passages.length) {
        lines.push("", "Closest passages (they do not answer the question):");
        answer.passages.forEach((passage, i) => {
          lines.push(`[${i + 1}] ${describeSource(passage)}, ${passage.anchor}`);
        });
      }
      return lines.join("\n");
    }
    lines.push(`Answer: ${answer.answer}`, "", "References:");
    for (const citation of answer.citations) {
      lines.push(`[${citation.n}] ${describeSource(citation)}, ${citation.anchor}`);
      lines.push(`    "${citation.quote}"`);
    }
    return lines.join("\n");
  }

  /* Put `text` on the clipboard: the Clipboard API where the page is a secure context, else
     the old select-and-copy through a hidden textarea (plain-HTTP intranet pages). */
  async function copyToClipboard(text) {
    if (navigator.clipboard && window.isSecureContext) {
      try {
        await navigator.clipboard.writeText(text);
        return true;
      } catch (_) {
        // Refused (no permission, no focus): try the fallback.
      }
    }
    const area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.style.cssText = "position:fixed;top:0;left:-10000px;opacity:0;";
    document.body.appendChild(area);
    area.select();
    let copied = false;
    try {
      copied = document.execCommand("copy");
    } catch (_) {
      copied = false;
    }
    area.remove();
    return copied;
  }

  // --- the chat ----------------------------------------------------------------------------------

  class Chat {
    /* `root`: the shadow root to draw in; options: baseUrl, apiKey, mode ("page"|"widget"),
       onClose (widget: the close button). */
    constructor(root, options) {
      this.root = root;
      this.options = options;
      this.prefix = `gcm-rag-${++instances}-`;
      this.ids = 0;
      this.storageKey = `${STORAGE_PREFIX}${options.baseUrl}`;
      this.turns = []; // settled {question, answer, scope} turns, as stored
      this.inFlight = null; // AbortController of the question being answered
      this.documents = null; // promise of [{doc, title}], from GET /api/documents
      this.maxChars = null; // the API's question limit, once GET /api/health has said it
      this.limits = null; // promise of that answer
      this.element = this.build();
      this.restore();
    }

    id(name) {
      return `${this.prefix}${name}-${++this.ids}`;
    }

    build() {
      const page = this.options.mode === "page";
      this.titleId = this.id("title");
      const inputId = this.id("question");
      const hintId = this.id("hint");
      const countId = this.id("count");
      this.log = h("div", {
        class: "log",
        role: "log",
        "aria-live": "polite",
        "aria-relevant": "additions",
        "aria-labelledby": this.titleId,
        tabindex: "-1",
      });
      this.intro = h(
        "div",
        { class: "intro" },
        h(
          "p",
          {},
          "Ask about the indexed migration-policy reports. Answers come from the reports only; " +
            "each claim has a numbered source: select it to read the passage."
        ),
        h(
          "p",
          {},
          "For example: ",
          h(
            "button",
            { type: "button", class: "example", onclick: () => this.useExample() },
            EXAMPLE_QUESTION
          )
        )
      );
      this.input = h("textarea", {
        id: inputId,
        name: "question",
        rows: "2",
        autocomplete: "off",
        "aria-describedby": `${hintId} ${countId}`,
        placeholder: "Type your question",
        onkeydown: (event) => this.onInputKey(event),
        oninput: () => this.updateCount(),
      });
      this.count = h("p", { class: "count", id: countId, hidden: true });
      const scopeId = this.id("scope");
      this.scopeSelect = h(
        "select",
        { id: scopeId, name: "documents" },
        h("option", { value: "" }, ALL_REPORTS)
      );
      this.scopeRow = h(
        "div",
        { class: "scope", hidden: true },
        h("label", { for: scopeId }, "Search in"),
        this.scopeSelect
      );
      this.sendButton = h("button", { type: "submit", class: "primary send" }, "Send");
      this.status = h("p", { class: "status", role: "status" });
      const form = h(
        "form",
        { class: "composer", onsubmit: (event) => this.onSubmit(event) },
        this.scopeRow,
        h("label", { for: inputId }, "Your question"),
        h("div", { class: "row" }, this.input, this.sendButton),
        h("p", { class: "hint", id: hintId }, "Enter sends; Shift+Enter starts a new line."),
        this.count,
        this.status
      );
      const bar = h(
        "div",
        { class: "bar" },
        h(page ? "h1" : "h2", { class: "title", id: this.titleId }, "Ask the migration reports"),
        h(
          "button",
          { type: "button", class: "new", onclick: () => this.newConversation() },
          "New conversation"
        ),
        this.options.onClose
          ? h(
              "button",
              {
                type: "button",
                class: "close",
                "aria-label": "Close the assistant",
                onclick: () => this.options.onClose(),
              },
              "Close"
            )
          : null
      );
      append(this.log, [this.intro]);
      return h(
        page ? "main" : "div",
        { class: `chat ${page ? "page" : "widget"}`, "aria-labelledby": this.titleId },
        bar,
        this.log,
        form
      );
    }

    // --- conversation state ---

    restore() {
      try {
        const stored = JSON.parse(sessionStorage.getItem(this.storageKey) || "[]");
        if (Array.isArray(stored)) this.turns = stored.filter((t) => t && t.answer);
      } catch (_) {
        this.turns = [];
      }
      for (const turn of this.turns) {
        this.log.appendChild(this.renderQuestion(turn.question, turn.scope));
        this.log.appendChild(this.renderAnswer(turn.answer, turn.scope));
      }
      this.intro.hidden = this.turns.length > 0;
      this.scrollToEnd();
    }

    save() {
      this.turns = this.turns.slice(-MAX_STORED_TURNS);
      try {
        sessionStorage.setItem(this.storageKey, JSON.stringify(this.turns));
      } catch (_) {
        // Storage full or refused: the conversation just won't survive a reload.
      }
    }

    newConversation() {
      if (this.inFlight) this.inFlight.abort();
      this.inFlight = null;
      this.setBusy(false);
      this.turns = [];
      try {
        sessionStorage.removeItem(this.storageKey);
      } catch (_) {
        // Nothing stored.
      }
      this.log.replaceChildren(this.intro);
      this.intro.hidden = false;
      this.announce("New conversation started.");
      this.input.focus();
    }

    // --- asking ---

    useExample() {
      this.input.value = EXAMPLE_QUESTION;
      this.updateCount();
      this.input.focus();
    }

    /* Ask GET /api/health, once, for the longest question the API accepts; asked again
       later when it fails. Health needs no key and sends no preflight. */
    loadLimits() {
      if (this.limits) return this.limits;
      this.limits = fetch(`${this.options.baseUrl}/api/health`)
        .then((response) => (response.ok ? response.json() : {}))
        .then((health) => {
          if (Number.isInteger(health.max_question_chars)) {
            this.maxChars = health.max_question_chars;
            this.updateCount();
          } else {
            this.limits = null;
          }
        })
        .catch(() => {
          this.limits = null;
        });
      return this.limits;
    }

    /* Ask GET /api/documents, once, for the indexed documents: their titles name the
       passages of answers, and with two or more the "Search in" list offers them. Asked
       again later when the server cannot be reached. */
    loadDocuments() {
      if (this.documents) return this.documents;
      this.documents = fetch(`${this.options.baseUrl}/api/documents`, {
        headers: this.options.apiKey ? { "X-API-Key": this.options.apiKey } : {},
      })
        .then((response) => (response.ok ? response.json() : { documents: [] }))
        .then((body) => body.documents.map((d) => ({ doc: d.doc, title: d.title || d.doc })))
        .catch(() => {
          this.documents = null;
          return [];
        });
      this.documents.then((documents) => this.offerScopes(documents));
      return this.documents;
    }

    /* Fill the "Search in" list; shown only when there is a choice to make. */
    offerScopes(documents) {
      const chosen = this.scopeSelect.value;
      const options = documents.map((d) => h("option", { value: d.doc, title: d.title }, d.title));
      this.scopeSelect.replaceChildren(h("option", { value: "" }, ALL_REPORTS), ...options);
      this.scopeSelect.value = documents.some((d) => d.doc === chosen) ? chosen : "";
      this.scopeRow.hidden = documents.length < 2;
    }

    /* The document questions are limited to now ({doc, title}), or null for all. */
    currentScope() {
      if (this.scopeRow.hidden || !this.scopeSelect.value) return null;
      const option = this.scopeSelect.selectedOptions[0];
      return { doc: this.scopeSelect.value, title: option.textContent };
    }

    limitMessage() {
      return `Questions are limited to ${formatNumber(this.maxChars)} characters; shorten it.`;
    }

    tooLong(text) {
      return this.maxChars !== null && characters(text) > this.maxChars;
    }

    /* The counter under the box; over the limit the box is marked invalid and the status
       says so (once, not at every key). */
    updateCount() {
      if (this.maxChars === null) return;
      const used = characters(this.input.value);
      const over = used > this.maxChars;
      this.count.hidden = false;
      this.count.textContent = `${formatNumber(used)} of ${formatNumber(this.maxChars)} characters`;
      this.count.classList.toggle("over", over);
      if (over) {
        this.input.setAttribute("aria-invalid", "true");
        if (this.status.textContent !== this.limitMessage()) this.announce(this.limitMessage());
      } else {
        this.input.removeAttribute("aria-invalid");
        if (this.status.textContent === this.limitMessage()) this.announce("");
      }
    }

    onInputKey(event) {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        this.submit();
      }
    }

    onSubmit(event) {
      event.preventDefault();
      this.submit();
    }

    submit() {
      if (this.inFlight) {
        this.announce("Please wait: the assistant is still answering.");
        return;
      }
      const question = this.input.value.trim();
      if (!question) {
        this.announce("Type a question first.");
        this.input.focus();
        return;
      }
      if (this.tooLong(question)) {
        this.announce(this.limitMessage());
        this.input.focus();
        return;
      }
      this.input.value = "";
      this.updateCount();
      this.ask(question, this.currentScope());
    }

    setBusy(busy) {
      this.sendButton.setAttribute("aria-disabled", busy ? "true" : "false");
      this.sendButton.textContent = busy ? "Answering…" : "Send";
      this.log.setAttribute("aria-busy", busy ? "true" : "false");
    }

    async ask(question, scope) {
      this.intro.hidden = true;
      this.announce("");
      this.log.appendChild(this.renderQuestion(question, scope));
      // Progress only, never the draft: the log is busy meanwhile, so the progress is also
      // announced through the status region.
      const progress = h("p", { class: "progress" }, SEARCHING);
      const pending = h(
        "article",
        { class: "turn answer pending", "data-state": "streaming", "aria-busy": "true" },
        progress
      );
      this.log.appendChild(pending);
      this.announce(SEARCHING);
      this.scrollToEnd();
      const controller = new AbortController();
      this.inFlight = controller;
      this.setBusy(true);
      let settled = null;
      let failure = null;
      try {
        await askStreaming(
          this.options,
          question,
          scope,
          (name, data) => {
            if (name === "passages") {
              progress.textContent = CHECKING;
              this.announce(CHECKING);
            } else if (name === "done") {
              settled = data;
            } else if (name === "error") {
              failure = new ChatError(
                "unavailable",
                "The assistant could not finish this answer.",
                sentence(data.error)
              );
            }
          },
          controller.signal
        );
        if (!settled && !failure) {
          failure = new ChatError(
            "interrupted",
            "The answer ended before it was complete.",
            "Try again."
          );
        }
        if (settled && settled.passages.some((passage) => !passage.doc_title)) {
          settled = await this.withTitles(settled);
          if (controller.signal.aborted) throw new DOMException("cleared", "AbortError");
        }
      } catch (error) {
        if (error.name === "AbortError") {
          pending.remove();
          return;
        }
        failure = error instanceof ChatError ? error : new ChatError("unavailable", String(error));
        if (failure.kind === "too_long" && this.maxChars !== null) {
          failure = new ChatError("too_long", this.limitMessage());
        }
      } finally {
        if (this.inFlight === controller) {
          this.inFlight = null;
          this.setBusy(false);
        }
      }
      if (settled) {
        pending.replaceWith(this.renderAnswer(settled, scope));
        this.turns.push({ question, answer: settled, scope });
        this.save();
        const refusal = scope ? "No answer in the chosen report." : "No answer in the reports.";
        this.announce(settled.abstained ? refusal : "Answer ready.");
      } else {
        pending.replaceWith(this.renderError(failure, question, scope));
        this.announce(""); // the error box is an alert of its own
        if (!this.input.value) this.input.value = question; // to edit or resend
        this.updateCount();
      }
      this.scrollToEnd();
    }

    /* `answer` with each retrieved passage's document title (retrieved passages carry only
       the document's id), from GET /api/documents; ids stay when it fails. */
    async withTitles(answer) {
      const documents = await this.loadDocuments();
      const titles = Object.fromEntries(documents.map((d) => [d.doc, d.title]));
      const passages = answer.passages.map((passage) =>
        passage.doc_title || !titles[passage.doc]
          ? passage
          : { ...passage, doc_title: titles[passage.doc] }
      );
      return { ...answer, passages };
    }

    // --- drawing ---

    /* The question, and the report it was limited to (`scope`), if any. */
    renderQuestion(question, scope) {
      return h(
        "div",
        { class: "turn question" },
        h("span", { class: "visually-hidden" }, "You asked: "),
        h("span", { class: "question-text" }, question),
        scope ? h("span", { class: "scope-note" }, `in ${scope.title}`) : null
      );
    }

    renderAnswer(answer, scope) {
      const viewer = h("section", { class: "passage", id: this.id("passage"), hidden: true });
      const article = h("article", {
        class: `turn answer${answer.abstained ? " abstained" : ""}`,
        "data-state": "done",
        "data-abstained": answer.abstained ? "true" : "false",
        "aria-label": answer.abstained ? "No answer in the reports" : "Answer",
      });
      const toggles = []; // every button that opens `viewer`, to keep aria-expanded true
      const opener = (source, key, label) => {
        const button = h("button", {
          type: "button",
          "aria-expanded": "false",
          "aria-controls": viewer.id,
          "data-key": key,
          "aria-label": label,
          onclick: () => this.togglePassage(viewer, toggles, button, source, key),
        });
        toggles.push(button);
        return button;
      };

      if (answer.abstained) {
        append(article, [
          h(
            "p",
            { class: "abstention-heading" },
            scope ? ABSTENTION_HEADING_CHOSEN : ABSTENTION_HEADING
          ),
          answer.abstention_reason
            ? h("p", { class: "note" }, `Why: ${sentence(answer.abstention_reason)}`)
            : null,
        ]);
        if (answer.passages.length) {
          const list = h("ol", { class: "sources closest" });
          answer.passages.forEach((passage, i) => {
            const button = opener(passage, `p${i}`, null);
            button.className = "source";
            append(button, [passage.section || passage.doc_title || passage.doc]);
            list.appendChild(h("li", {}, button, " ", h("span", { class: "anchor" }, passage.anchor)));
          });
          append(article, [
            h("p", { class: "sources-heading" }, "The closest passages, for reading:"),
            list,
            viewer,
          ]);
        }
      } else {
        const byNumber = new Map(answer.citations.map((c) => [c.n, c]));
        const text = h("p", { class: "answer-text" });
        let last = 0;
        for (const match of answer.answer.matchAll(CITATION_MARKER)) {
          const citation = byNumber.get(Number(match[1]));
          if (!citation) continue;
          text.appendChild(document.createTextNode(answer.answer.slice(last, match.index)));
          const button = opener(
            citation,
            `c${citation.n}`,
            `Source ${citation.n}: show the cited passage`
          );
          button.className = "cite";
          button.textContent = `[${citation.n}]`;
          text.appendChild(button);
          last = match.index + match[0].length;
        }
        text.appendChild(document.createTextNode(answer.answer.slice(last)));
        append(article, [text]);
        if (answer.weak_evidence) {
          article.appendChild(
            h(
              "p",
              { class: "note weak-evidence", role: "note" },
              "The closest passages match this question only loosely: the reports may " +
                "not answer it. Check the sources."
            )
          );
        }
        if (answer.mode === "extractive") {
          article.appendChild(
            h("p", { class: "note" }, "Quoted from the reports, word for word.")
          );
        }
        article.appendChild(viewer);
        if (answer.citations.length) {
          const list = h("ol", { class: "sources" });
          for (const citation of answer.citations) {
            const button = opener(citation, `c${citation.n}`, null);
            button.className = "source";
            append(button, [describeSource(citation)]);
            list.appendChild(
              h(
                "li",
                { value: citation.n },
                button,
                " ",
                h("span", { class: "anchor" }, citation.anchor)
              )
            );
          }
          append(article, [h("p", { class: "sources-heading" }, "Sources"), list]);
        }
      }
      const copyButton = h("button", { type: "button", class: "copy" }, "Copy answer with references");
      copyButton.addEventListener("click", () => this.copy(answer, copyButton));
      article.appendChild(h("div", { class: "actions" }, copyButton));
      return article;
    }

    /* Show `source` in `viewer` (a citation: with its quote highlighted), or hide it when the
       same source is already shown. */
    togglePassage(viewer, toggles, button, source, key) {
      const showing = !viewer.hidden && viewer.dataset.key === key;
      for (const toggle of toggles) toggle.setAttribute("aria-expanded", "false");
      if (showing) {
        viewer.hidden = true;
        viewer.dataset.key = "";
        return;
      }
      for (const toggle of toggles) {
        if (toggle.dataset.key === key) toggle.setAttribute("aria-expanded", "true");
      }
      viewer.replaceChildren(...this.renderPassage(source, viewer, toggles, button));
      viewer.dataset.key = key;
      viewer.setAttribute("aria-label", `Passage ${source.anchor}`);
      viewer.hidden = false;
      viewer.scrollIntoView({ block: "nearest" });
    }

    renderPassage(source, viewer, toggles, button) {
      const meta = [];
      if (source.section) meta.push(`Section: ${source.section}`);
      if (source.page !== null && source.page !== undefined) meta.push(`Page ${source.page}`);
      const text = h("p", { class: "text" });
      const span = source.quote ? locateQuote(source.text, source.quote) : null;
      if (span) {
        append(text, [
          source.text.slice(0, span[0]),
          h("mark", {}, source.text.slice(span[0], span[1])),
          source.text.slice(span[1]),
        ]);
      } else {
        text.textContent = source.text;
      }
      const close = h("button", { type: "button", class: "close-passage" }, "Close passage");
      close.addEventListener("click", () => {
        viewer.hidden = true;
        viewer.dataset.key = "";
        for (const toggle of toggles) toggle.setAttribute("aria-expanded", "false");
        button.focus();
      });
      return [
        h("p", { class: "passage-title" }, source.doc_title || source.doc),
        h(
          "p",
          { class: "meta" },
          meta.length ? `${meta.join(" · ")} · ` : "",
          h("span", { class: "anchor" }, source.anchor)
        ),
        text,
        source.quote && !span ? h("p", { class: "quote" }, `Supporting quote: ${source.quote}`) : null,
        h(
          "p",
          { class: "links" },
          h(
            "a",
            {
              href: passageUrl(this.options.baseUrl, source.anchor),
              target: "_blank",
              rel: "noopener noreferrer",
            },
            `Open passage ${source.anchor}`
          ),
          close
        ),
      ].filter(Boolean);
    }

    renderError(error, question, scope) {
      const retry = h("button", { type: "button", class: "retry" }, "Try again");
      const box = h(
        "div",
        { class: "turn error", role: "alert", "data-kind": error.kind },
        h("p", { class: "error-title" }, error.title),
        error.detail ? h("p", {}, error.detail) : null,
        h("div", { class: "actions" }, retry)
      );
      retry.addEventListener("click", () => {
        if (this.inFlight) return;
        // The question is asked again in place of the failed attempt.
        const asked = box.previousElementSibling;
        if (asked && asked.classList.contains("question")) asked.remove();
        box.remove();
        if (this.input.value.trim() === question) this.input.value = "";
        this.updateCount();
        this.input.focus();
        this.ask(question, scope);
      });
      return box;
    }

    async copy(answer, button) {
      const copied = await copyToClipboard(answerWithReferences(answer));
      this.announce(
        copied
          ? "Copied the answer with its references."
          : "Could not copy: your browser refused. Select the answer and copy it by hand."
      );
      button.focus();
    }

    announce(message) {
      this.status.textContent = message;
    }

    scrollToEnd() {
      this.log.scrollTop = this.log.scrollHeight;
    }

    focusInput() {
      this.input.focus();
    }
  }

  // --- mounting ----------------------------------------------------------------------------------

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
    // Shown once its styles are in, so that the page never flashes an unstyled chat.
    const styles = h("link", { rel: "stylesheet", href: `${options.assetsUrl || ""}chat.css` });
    const reveal = () => {
      root.hidden = false;
    };
    styles.addEventListener("load", reveal);
    styles.addEventListener("error", reveal);
    shadow.append(styles, root);
    if (settings.mode === "page") {
      const chat = new Chat(shadow, settings);
      root.appendChild(chat.element);
      chat.loadLimits();
      chat.loadDocuments();
      return chat;
    }
    return mountWidget(shadow, root, settings);
  }

  /* The floating button and the panel (a non-modal dialog) around the chat. */
  function mountWidget(shadow, root, settings) {
    const openKey = `${STORAGE_PREFIX}open:${settings.baseUrl}`;
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
      launcher.setAttribute("aria-expanded", open ? "true" : "false");
      try {
        sessionStorage.setItem(openKey, open ? "1" : "0");
      } catch (_) {
        // Not remembered: fine.
      }
      if (focus) (open ? chat.input : launcher).focus();
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
    let wasOpen = false;
    try {
      wasOpen = sessionStorage.getItem(openKey) === "1";
    } catch (_) {
      wasOpen = false;
    }
    if (wasOpen) setOpen(true, false);
    chat.open = () => setOpen(true, true);
    chat.close = () => setOpen(false, true);
    return chat;
  }

  window.GcmRagChat = { mount, locateQuote, answerWithReferences };
})();
