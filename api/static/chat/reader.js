/* Reading a cited passage in its document: where "Open passage" leads. The chat draws it in
   place of the conversation, and fetches the passage through its own client (so with the
   access key, whenever the chat itself works): the document's title, the section and page,
   where the passage stands in the document, its text with the supporting quote highlighted,
   and links to the passages before and after.

   Its address is the chat page's, with the passage in the fragment:
   `/#passage=gcm-unece-2020%23p22&quote=…`. A fragment never reaches the server, and the
   page at / opens such an address on the passage (a link opened in a new tab, a bookmark).
   `/api/passages/{anchor}` stays the JSON for systems. */
(function (parts) {
  "use strict";

  if (parts.PassageReader) return;

  const { h } = parts.dom;
  const { formatNumber } = parts.text;
  const { passagePlace, quotedText } = parts.answers;

  const LOADING = "Opening the passage…";

  /* The fragment (without '#') of the address that shows the passage at `anchor`, with
     `quote` highlighted. */
  function passageFragment(anchor, quote) {
    const fragment = `passage=${encodeURIComponent(anchor)}`;
    return quote ? `${fragment}&quote=${encodeURIComponent(quote)}` : fragment;
  }

  /* The passage a fragment ("#passage=…") asks for, as {anchor, quote}, or null. */
  function passageInFragment(hash) {
    const fields = new URLSearchParams((hash || "").replace(/^#/, ""));
    const anchor = fields.get("passage");
    return anchor ? { anchor, quote: fields.get("quote") || "" } : null;
  }

  class PassageReader {
    /* context: id(name); headingTag ("h2" in the page, "h3" in the widget); load(anchor),
       the passage or a rejection with a ChatError; href(anchor), a neighbour's address;
       follow(event, anchor), a click on a neighbour's link; back(), "Back to the
       conversation"; failed(error, retry), a refusal the chat may act on (a missing key). */
    constructor(context) {
      this.context = context;
      this.showing = null; // {anchor, quote} asked for
      this.requests = 0; // a slow answer for a passage left since is dropped
      this.headingId = context.id("reader-title");
      this.body = h("div", { class: "reader-body" });
      this.element = h(
        "section",
        { class: "reader", "aria-labelledby": this.headingId, hidden: true },
        h(
          "div",
          { class: "reader-bar" },
          h(
            "button",
            { type: "button", class: "back", onclick: () => context.back() },
            "Back to the conversation"
          )
        ),
        this.body
      );
    }

    get shown() {
      return !this.element.hidden;
    }

    /* Show the passage at `anchor`, `quote` highlighted; nothing to do when it is shown. */
    async show(anchor, quote) {
      const showing = this.shown ? this.showing : null;
      if (showing && showing.anchor === anchor && showing.quote === quote && !showing.failed) {
        return;
      }
      this.showing = { anchor, quote };
      this.element.hidden = false;
      const request = ++this.requests;
      const heading = h(
        this.context.headingTag,
        { class: "reader-title", id: this.headingId, tabindex: "-1" },
        "Passage"
      );
      this.body.replaceChildren(heading, h("p", { class: "progress", role: "status" }, LOADING));
      this.focus();
      let passage;
      try {
        passage = await this.context.load(anchor);
      } catch (error) {
        if (request !== this.requests) return;
        this.showing.failed = true;
        this.body.replaceChildren(heading, this.renderFailure(error));
        this.context.failed(error, () => this.show(anchor, quote));
        return;
      }
      if (request !== this.requests) return;
      this.body.replaceChildren(...this.render(passage, quote));
      this.element.scrollTop = 0;
      this.focus();
    }

    hide() {
      this.requests += 1;
      this.showing = null;
      this.element.hidden = true;
      this.body.replaceChildren();
    }

    focus() {
      const heading = this.body.querySelector(".reader-title");
      if (heading) heading.focus();
    }

    render(passage, quote) {
      const place = passagePlace(passage);
      const neighbours = h(
        "nav",
        { class: "neighbours", "aria-label": "Passages before and after" },
        this.neighbourLink(passage.previous, "previous", "Previous passage"),
        this.neighbourLink(passage.next, "next", "Next passage")
      );
      return [
        h(
          this.context.headingTag,
          { class: "reader-title", id: this.headingId, tabindex: "-1" },
          passage.doc_title || passage.doc
        ),
        place.length ? h("p", { class: "meta" }, place.join(" · ")) : null,
        // The anchor names the passage (it is what an official cites); its place in the
        // report is a count, which need not match the anchor's number ("#p32" is the 33rd).
        h(
          "p",
          { class: "meta" },
          "Passage ",
          h("span", { class: "anchor" }, passage.anchor),
          ` · ${formatNumber(passage.position)} of ${formatNumber(passage.document_passages)} ` +
            "in this report"
        ),
        ...quotedText(passage.text, quote),
        neighbours,
      ].filter(Boolean);
    }

    neighbourLink(anchor, rel, label) {
      if (!anchor) return h("span", { class: `${rel} none` }, `No ${label.toLowerCase()}`);
      return h(
        "a",
        {
          class: rel,
          rel,
          href: this.context.href(anchor),
          onclick: (event) => this.context.follow(event, anchor),
        },
        label
      );
    }

    renderFailure(error) {
      return h(
        "div",
        { class: "turn error", role: "alert", "data-kind": error.kind || "unavailable" },
        h("p", { class: "error-title" }, error.title || String(error)),
        error.detail ? h("p", {}, error.detail) : null
      );
    }
  }

  parts.PassageReader = PassageReader;
  parts.passages = { passageFragment, passageInFragment };
})(window.GcmRagChat.parts);
