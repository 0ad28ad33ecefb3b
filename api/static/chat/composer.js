/* The question box under the conversation: the text area (Enter sends, Shift+Enter a new
   line), the "Search in" list, the Send button, and the status line that tells the reader
   what is going on.

   Questions are held to the API's length limit, read from GET /api/health
   (`max_question_chars`): a counter shows it, and a longer question is not sent. The limit
   is not put in `maxlength`, which cuts pasted text without a word: a question cut short
   would be answered as if it were whole.

   With more than one document indexed, the "Search in" list limits a question to one
   report (sent as `"documents": [id]`); with one document it stays hidden. */
(function (parts) {
  "use strict";

  if (parts.Composer) return;

  const { h } = parts.dom;
  const { formatNumber, characters } = parts.text;

  const ALL_REPORTS = "All reports";
  // Titles in the order a reader expects: "Annex 2" before "Annex 10", case aside.
  const TITLE_ORDER = new Intl.Collator("en", { numeric: true, sensitivity: "base" });

  class Composer {
    /* id(name): a unique element id; onSubmit(): the reader pressed Enter or Send. */
    constructor(id, onSubmit) {
      this.maxChars = null; // the API's question limit, once GET /api/health has said it
      const inputId = id("question");
      const hintId = id("hint");
      const countId = id("count");
      this.input = h("textarea", {
        id: inputId,
        name: "question",
        rows: "2",
        autocomplete: "off",
        "aria-describedby": `${hintId} ${countId}`,
        placeholder: "Type your question",
        onkeydown: (event) => {
          if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
            event.preventDefault();
            onSubmit();
          }
        },
        oninput: () => this.updateCount(),
      });
      this.count = h("p", { class: "count", id: countId, hidden: true });
      const scopeId = id("scope");
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
      this.element = h(
        "form",
        {
          class: "composer",
          onsubmit: (event) => {
            event.preventDefault();
            onSubmit();
          },
        },
        this.scopeRow,
        h("label", { for: inputId }, "Your question"),
        h("div", { class: "row" }, this.input, this.sendButton),
        h("p", { class: "hint", id: hintId }, "Enter sends; Shift+Enter starts a new line."),
        this.count,
        this.status
      );
    }

    /* The question in the box, taken out to be sent; null, with the reason said, when it is
       empty or over the limit. */
    takeQuestion() {
      const question = this.input.value.trim();
      if (!question) {
        this.announce("Type a question first.");
        this.input.focus();
        return null;
      }
      if (this.tooLong(question)) {
        this.announce(this.limitMessage());
        this.input.focus();
        return null;
      }
      this.input.value = "";
      this.updateCount();
      return question;
    }

    /* `text` in the box, ready to send. */
    fill(text) {
      this.input.value = text;
      this.updateCount();
      this.input.focus();
    }

    /* A question that failed, back in the box to edit or resend, unless the reader has
       typed another meanwhile. */
    putBack(question) {
      if (!this.input.value) this.input.value = question;
      this.updateCount();
    }

    /* An empty box again if it still holds `question` (sent again by "Try again"). */
    clear(question) {
      if (this.input.value.trim() === question) this.input.value = "";
      this.updateCount();
    }

    focus() {
      this.input.focus();
    }

    announce(message) {
      this.status.textContent = message;
    }

    setBusy(busy) {
      this.sendButton.setAttribute("aria-disabled", busy ? "true" : "false");
      this.sendButton.textContent = busy ? "Answering…" : "Send";
    }

    // --- the length limit ---

    setLimit(maxChars) {
      this.maxChars = maxChars;
      this.updateCount();
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

    // --- "Search in" ---

    /* Fill the "Search in" list with [{doc, title}], by title, numbers counted as numbers
       (the API lists them by id, as text); shown only when there is a choice to make. */
    offerScopes(documents) {
      const chosen = this.scopeSelect.value;
      const byTitle = [...documents].sort(
        (a, b) => TITLE_ORDER.compare(a.title, b.title) || TITLE_ORDER.compare(a.doc, b.doc)
      );
      const options = byTitle.map((d) => h("option", { value: d.doc, title: d.title }, d.title));
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
  }

  parts.Composer = Composer;
})(window.GcmRagChat.parts);
