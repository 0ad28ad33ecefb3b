/* The access key form. When the server requires keys (RAG_API_KEYS) and the API refuses the
   chat for want of one, the chat shows this short form under the conversation: the reader
   enters the key their administrator gave them, the form checks it with the API, and the chat
   keeps it for the tab (storage.js) and sends it as the X-API-Key header. A key never goes
   into a URL, and once accepted it leaves the form. */
(function (parts) {
  "use strict";

  if (parts.AccessKeyForm) return;

  const { h } = parts.dom;
  const { ChatError } = parts.api;

  const NEEDED = "This assistant needs an access key; ask your administrator for one.";
  const REJECTED =
    "That access key was not accepted. Check it, or ask your administrator for a new one.";
  const UNCHECKED =
    "The key could not be checked: the assistant cannot be reached. Try again in a moment.";

  class AccessKeyForm {
    /* id(name): a unique element id; check(key): resolves with what the API answered when it
       accepts `key`, rejects with a ChatError when it does not; onAccepted(key, answered). */
    constructor(id, check, onAccepted) {
      this.check = check;
      this.onAccepted = onAccepted;
      this.checking = false;
      const titleId = id("access-title");
      const inputId = id("access-key");
      const messageId = id("access-message");
      this.input = h("input", {
        id: inputId,
        name: "access-key",
        type: "password",
        autocomplete: "off",
        spellcheck: "false",
        "aria-describedby": messageId,
      });
      this.button = h("button", { type: "submit", class: "primary" }, "Use key");
      this.message = h("p", { class: "access-message", id: messageId, role: "alert" });
      this.element = h(
        "form",
        {
          class: "access",
          "aria-labelledby": titleId,
          hidden: true,
          onsubmit: (event) => {
            event.preventDefault();
            this.submit();
          },
        },
        h("p", { class: "access-title", id: titleId }, NEEDED),
        h("label", { for: inputId }, "Access key"),
        h("div", { class: "row" }, this.input, this.button),
        this.message
      );
    }

    get shown() {
      return !this.element.hidden;
    }

    /* Ask for a key because of `error` (an "unauthorized" ChatError): a key that was sent
       and refused is said to be wrong. */
    show(error) {
      this.element.hidden = false;
      this.say(error && error.reason === "key_rejected" ? REJECTED : "");
    }

    focus() {
      this.input.focus();
    }

    say(message) {
      this.message.textContent = message;
      if (message) this.input.setAttribute("aria-invalid", "true");
      else this.input.removeAttribute("aria-invalid");
    }

    async submit() {
      if (this.checking) return;
      const key = this.input.value.trim();
      if (!key) {
        this.say("Type the access key first.");
        this.focus();
        return;
      }
      this.setChecking(true);
      let answered;
      try {
        answered = await this.check(key);
      } catch (error) {
        this.setChecking(false);
        if (error instanceof ChatError && error.kind === "unauthorized") {
          this.say(REJECTED);
        } else {
          this.say(UNCHECKED);
        }
        this.input.select();
        this.focus();
        return;
      }
      this.setChecking(false);
      this.input.value = "";
      this.say("");
      this.element.hidden = true;
      this.onAccepted(key, answered);
    }

    setChecking(checking) {
      this.checking = checking;
      this.button.setAttribute("aria-disabled", checking ? "true" : "false");
      this.button.textContent = checking ? "Checking…" : "Use key";
    }
  }

  parts.AccessKeyForm = AccessKeyForm;
})(window.GcmRagChat.parts);
