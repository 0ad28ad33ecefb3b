/* The chat itself, as drawn in the page at / and in the widget's panel: a title bar, the
   conversation log, and the question box (composer.js).

   An asked question goes to the API with "stream": true. The `token` events are the model's
   unverified draft and are never shown: officials must be able to trust every sentence on
   screen, and verification often drops or re-cites what the model wrote. Until the `done`
   event brings the verified answer, a status says that the answer is being checked.

   The settled turns are kept for the tab (storage.js), and drawn again on a reload; "New
   conversation" clears them.

   When the server requires keys and the chat has none (or a wrong one), the API's refusal
   brings up the access key form (access.js) under the conversation; once the key is
   accepted, what it refused (the question, the document list, a passage) is asked for again.

   "Open passage" shows the passage in its document (reader.js) in place of the
   conversation. In the page at /, the passage's address is the page's own with a fragment
   (`#passage=…`), kept in the browser's history, so that Back returns to the conversation
   and a bookmark or a new tab opens the passage; the widget leaves its page's address
   alone. */
(function (parts) {
  "use strict";

  if (parts.Chat) return;

  const { h, append, copyToClipboard } = parts.dom;
  const { sentence, answerWithReferences } = parts.text;
  const { ChatError, askStreaming, fetchQuestionLimit, fetchDocuments, fetchPassage } =
    parts.api;
  const { renderQuestion, renderAnswer, renderError } = parts.answers;
  const { ConversationStore, storedKey, rememberKey } = parts.storage;
  const { passageFragment, passageInFragment } = parts.passages;
  const { Composer, AccessKeyForm, PassageReader } = parts;

  const EXAMPLE_QUESTION = "Which states regularised migrants during COVID?";
  const SEARCHING = "Searching the reports…";
  const CHECKING = "Checking the answer against the reports…";

  let instances = 0;

  class Chat {
    /* `root`: the shadow root to draw in; options: baseUrl, apiKey, mode ("page"|"widget"),
       onClose (widget: the close button). */
    constructor(root, options) {
      this.root = root;
      // A key entered in this tab wins over one given by the embedding page (data-api-key):
      // the reader entered it after that one was refused.
      this.options = { ...options, apiKey: storedKey(options.baseUrl) || options.apiKey || null };
      this.prefix = `gcm-rag-${++instances}-`;
      this.ids = 0;
      this.store = new ConversationStore(options.baseUrl);
      this.turns = []; // settled {question, answer, scope} turns, as stored
      this.inFlight = null; // AbortController of the question being answered
      this.documents = null; // promise of [{doc, title}], from GET /api/documents
      this.limits = null; // promise of the question limit, from GET /api/health
      this.keyWaiters = new Map(); // what to ask for again once a key is accepted, by kind
      this.readerOpener = null; // the link that opened the passage reader, for the way back
      this.logScroll = 0; // where the conversation was scrolled to, for the way back
      this.answerContext = {
        id: (name) => this.id(name),
        passageHref: (anchor, quote) => this.passageHref(anchor, quote),
        onOpenPassage: (event, anchor, quote) => this.followPassageLink(event, anchor, quote),
        onCopy: (answer, button) => this.copy(answer, button),
      };
      this.element = this.build();
      this.restore();
      if (this.options.mode === "page") {
        // Back and Forward, and a fragment typed or bookmarked: the reader follows the URL.
        window.addEventListener("popstate", () => this.syncWithUrl());
        window.addEventListener("hashchange", () => this.syncWithUrl());
        this.syncWithUrl();
      }
    }

    id(name) {
      return `${this.prefix}${name}-${++this.ids}`;
    }

    build() {
      const page = this.options.mode === "page";
      this.titleId = this.id("title");
      this.composer = new Composer((name) => this.id(name), () => this.submit());
      this.access = new AccessKeyForm(
        (name) => this.id(name),
        (key) => fetchDocuments({ ...this.options, apiKey: key }),
        (key, documents) => this.keyAccepted(key, documents)
      );
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
          "Each question is answered on its own, without the ones before it: name what you " +
            "ask about (\u201cWhat did Germany report?\u201d, not \u201cAnd Germany?\u201d)."
        ),
        h(
          "p",
          {},
          "For example: ",
          h(
            "button",
            {
              type: "button",
              class: "example",
              onclick: () => this.composer.fill(EXAMPLE_QUESTION),
            },
            EXAMPLE_QUESTION
          )
        )
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
      this.reader = new PassageReader({
        id: (name) => this.id(name),
        headingTag: page ? "h2" : "h3",
        load: (anchor) => fetchPassage(this.options, anchor),
        href: (anchor) => this.passageHref(anchor, ""),
        follow: (event, anchor) => this.followPassageLink(event, anchor, ""),
        back: () => this.closePassage(),
        failed: (error, retry) => {
          if (error.kind === "unauthorized") this.requireKey(error, "passage", retry);
        },
      });
      return h(
        page ? "main" : "div",
        { class: `chat ${page ? "page" : "widget"}`, "aria-labelledby": this.titleId },
        bar,
        this.log,
        this.reader.element,
        this.access.element,
        this.composer.element
      );
    }

    // --- conversation state ---

    restore() {
      this.turns = this.store.load();
      for (const turn of this.turns) {
        this.log.appendChild(renderQuestion(turn.question, turn.scope));
        this.log.appendChild(renderAnswer(turn.answer, turn.scope, this.answerContext));
      }
      this.intro.hidden = this.turns.length > 0;
      // Not scrolled yet: the chat is not on screen until its styles are in (mount.js), and
      // a hidden log has nothing to scroll. `onShown` scrolls it.
    }

    save() {
      this.turns = this.store.save(this.turns);
    }

    newConversation() {
      if (this.reader.shown) {
        this.readerOpener = null;
        this.hidePassage();
        if (this.options.mode === "page") history.replaceState(null, "", withoutFragment());
      }
      if (this.inFlight) this.inFlight.abort();
      this.inFlight = null;
      this.setBusy(false);
      this.turns = [];
      this.store.clear();
      this.log.replaceChildren(this.intro);
      this.intro.hidden = false;
      this.announce("New conversation started.");
      this.composer.focus();
    }

    // --- what the server says before any question ---

    /* Ask GET /api/health, once, for the longest question the API accepts; asked again
       later when it fails. */
    loadLimits() {
      if (this.limits) return this.limits;
      this.limits = fetchQuestionLimit(this.options).then((maxChars) => {
        if (maxChars === null) this.limits = null;
        else this.composer.setLimit(maxChars);
      });
      return this.limits;
    }

    /* Ask GET /api/documents, once, for the indexed documents: their titles name the
       passages of answers, and with two or more the "Search in" list offers them. Asked
       again later when the server cannot be reached. */
    loadDocuments() {
      if (this.documents) return this.documents;
      this.documents = fetchDocuments(this.options).catch((error) => {
        this.documents = null;
        if (error instanceof ChatError && error.kind === "unauthorized") this.requireKey(error);
        return [];
      });
      this.documents.then((documents) => this.composer.offerScopes(documents));
      return this.documents;
    }

    // --- asking ---

    submit() {
      if (this.inFlight) {
        this.announce("Please wait: the assistant is still answering.");
        return;
      }
      const question = this.composer.takeQuestion();
      if (question) this.ask(question, this.composer.currentScope());
    }

    setBusy(busy) {
      this.composer.setBusy(busy);
      this.log.setAttribute("aria-busy", busy ? "true" : "false");
    }

    async ask(question, scope) {
      this.intro.hidden = true;
      this.announce("");
      this.log.appendChild(renderQuestion(question, scope));
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
        if (failure.kind === "too_long" && this.composer.maxChars !== null) {
          failure = new ChatError("too_long", this.composer.limitMessage());
        }
      } finally {
        if (this.inFlight === controller) {
          this.inFlight = null;
          this.setBusy(false);
        }
      }
      if (settled) {
        pending.replaceWith(renderAnswer(settled, scope, this.answerContext));
        this.turns.push({ question, answer: settled, scope });
        this.save();
        const refusal = scope ? "No answer in the chosen report." : "No answer in the reports.";
        this.announce(settled.abstained ? refusal : "Answer ready.");
      } else {
        const box = renderError(failure, (shown) => this.retry(shown, question, scope));
        pending.replaceWith(box);
        this.announce(""); // the error box is an alert of its own
        this.composer.putBack(question);
        if (failure.kind === "unauthorized") {
          this.requireKey(failure, "question", () => this.retry(box, question, scope));
        }
      }
      this.scrollToLatest();
    }

    // --- reading a passage in its document ---

    /* The address of the passage at `anchor` (`quote` highlighted): the page at / with the
       passage in its fragment; in the page itself, just the fragment. */
    passageHref(anchor, quote) {
      const fragment = `#${passageFragment(anchor, quote)}`;
      return this.options.mode === "page" ? fragment : `${this.options.baseUrl}/${fragment}`;
    }

    /* A click on a link to a passage: the passage is shown here, through the chat's client
       (with its key). A click asking for a new tab or window is left to the browser. */
    followPassageLink(event, anchor, quote) {
      if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) {
        return;
      }
      event.preventDefault();
      if (!this.reader.shown) this.readerOpener = event.currentTarget;
      if (this.options.mode === "page") {
        const depth = readerDepth() + 1;
        history.pushState({ gcmRagPassage: depth }, "", `#${passageFragment(anchor, quote)}`);
      }
      this.showPassage(anchor, quote);
    }

    showPassage(anchor, quote) {
      if (!this.reader.shown) {
        this.logScroll = this.log.scrollTop;
        this.log.hidden = true;
        this.composer.element.hidden = true;
      }
      this.reader.show(anchor, quote);
    }

    /* "Back to the conversation": in the page, back through the history the reader added
       (so that Forward reopens it), or, for a page opened on a passage, to the bare page. */
    closePassage() {
      if (this.options.mode === "page") {
        const depth = readerDepth();
        if (depth > 0) {
          history.go(-depth); // popstate then closes the reader
          return;
        }
        history.replaceState(null, "", withoutFragment());
      }
      this.hidePassage();
    }

    hidePassage() {
      if (!this.reader.shown) return;
      this.reader.hide();
      this.log.hidden = false;
      this.composer.element.hidden = false;
      this.log.scrollTop = this.logScroll;
      const opener = this.readerOpener;
      this.readerOpener = null;
      if (opener && opener.isConnected) opener.focus();
      else this.composer.focus();
    }

    /* The page at /: show the passage its address names, or the conversation. */
    syncWithUrl() {
      const wanted = passageInFragment(location.hash);
      if (wanted) this.showPassage(wanted.anchor, wanted.quote);
      else this.hidePassage();
    }

    // --- the access key ---

    /* Show the access key form for `error` (an "unauthorized" ChatError); `then`, when
       given, runs once a key is accepted (the latest of each `kind` only). The form takes
       the focus unless the reader is busy elsewhere on the page. */
    requireKey(error, kind, then) {
      if (error.reason === "key_rejected" && this.options.apiKey) {
        rememberKey(this.options.baseUrl, null);
        this.options.apiKey = null;
      }
      if (then) this.keyWaiters.set(kind, then);
      const focusHere = this.mayTakeFocus();
      this.access.show(error);
      if (focusHere) this.access.focus();
    }

    /* Whether the chat may move the focus: it is in the chat already, or nowhere. */
    mayTakeFocus() {
      const active = document.activeElement;
      return Boolean(this.root.activeElement) || !active || active === document.body;
    }

    /* The API accepted `key` (and listed `documents` with it): keep it for the tab and ask
       again for what was refused. */
    keyAccepted(key, documents) {
      this.options.apiKey = key;
      rememberKey(this.options.baseUrl, key);
      this.documents = Promise.resolve(documents);
      this.composer.offerScopes(documents);
      this.announce("Access key accepted.");
      const waiters = [...this.keyWaiters.values()];
      this.keyWaiters.clear();
      if (!waiters.length) this.composer.focus();
      for (const waiter of waiters) waiter();
    }

    /* "Try again" on the error `box`: the question is asked again in place of the failed
       attempt. */
    retry(box, question, scope) {
      if (this.inFlight) return;
      const asked = box.previousElementSibling;
      if (asked && asked.classList.contains("question")) asked.remove();
      box.remove();
      this.composer.clear(question);
      this.composer.focus();
      this.ask(question, scope);
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
      this.composer.announce(message);
    }

    /* The chat has come on screen (its styles are in, or the widget's panel opened): what
       could not be done while it was hidden is done now. */
    onShown() {
      this.scrollToLatest();
      if (!this.mayTakeFocus()) return;
      if (this.access.shown) this.access.focus();
      else if (this.reader.shown) this.reader.focus();
      // The page at / is the chat: a reader starts in the question box. The widget's box
      // takes the focus only when its button opens it, never by itself on an intranet page.
      else if (this.options.mode === "page") this.composer.focus();
    }

    scrollToEnd() {
      this.log.scrollTop = this.log.scrollHeight;
    }

    /* The latest question and its answer in view: scrolled to the end, or, when the answer
       is longer than the log's height, to the question, so that the answer reads from its
       start. */
    scrollToLatest() {
      const questions = this.log.querySelectorAll(".question");
      const latest = questions[questions.length - 1];
      if (!latest) return;
      const gap = parseFloat(getComputedStyle(this.log).paddingTop) || 0;
      const offset = latest.getBoundingClientRect().top - this.log.getBoundingClientRect().top;
      // Past the end, scrollTop stops at the end.
      this.log.scrollTop += offset - gap;
    }

    focusInput() {
      if (this.access.shown) this.access.focus();
      else this.composer.focus();
    }
  }

  /* How many passages the reader has added to the page's history since the conversation. */
  function readerDepth() {
    const state = history.state;
    return state && Number.isInteger(state.gcmRagPassage) ? state.gcmRagPassage : 0;
  }

  function withoutFragment() {
    return `${location.pathname}${location.search}`;
  }

  parts.Chat = Chat;
})(window.GcmRagChat.parts);
