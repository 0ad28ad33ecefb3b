/* Drawing the conversation's turns: the question asked, the verified answer with each `[n]`
   a button that shows its cited passage (the supporting quote highlighted) and a numbered
   source list, a refusal with the closest passages for reading, and an error with "Try
   again". Text from the reports is always put in as text (see dom.js). */
(function (parts) {
  "use strict";

  if (parts.answers) return;

  const { h, append } = parts.dom;
  const { ABSTENTION_HEADING, sentence, locateQuote, describeSource, ownSection } = parts.text;

  const ABSTENTION_HEADING_CHOSEN = "The chosen report does not answer this";
  const CITATION_MARKER = /\[(\d+)\]/g;
  // What follows a marker and must not wrap away from it: "[1].", "[2]),".
  const TRAILING_PUNCTUATION = /^[.,;:!?)\u2026]*/;

  /* The question, and the report it was limited to (`scope`), if any. */
  function renderQuestion(question, scope) {
    return h(
      "div",
      { class: "turn question" },
      h("span", { class: "visually-hidden" }, "You asked: "),
      h("span", { class: "question-text" }, question),
      scope ? h("span", { class: "scope-note" }, `in ${scope.title}`) : null
    );
  }

  /* The settled answer (the `done` event) to a question limited to `scope` (or null).
     context: id(name), a unique element id; passageHref(anchor, quote), the address of a
     passage in its document, and onOpenPassage(event, anchor, quote), a click on it;
     onCopy(answer, button). */
  function renderAnswer(answer, scope, context) {
    const viewer = h("section", { class: "passage", id: context.id("passage"), hidden: true });
    // Where `viewer` stands unless a part's citation opens it below that part.
    const viewerHome = document.createComment("passage");
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
        onclick: () => {
          // A citation in a part of an answer of several parts shows its passage below that
          // part, not below the last one, far from the marker; the rest, in its place.
          (button.closest(".answer-part") || viewerHome).after(viewer);
          togglePassage(viewer, toggles, button, source, key, context);
        },
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
          append(button, [ownSection(passage) || passage.doc_title || passage.doc]);
          list.appendChild(h("li", {}, button, " ", h("span", { class: "anchor" }, passage.anchor)));
        });
        append(article, [
          h("p", { class: "sources-heading" }, "The closest passages, for reading:"),
          list,
          viewerHome,
          viewer,
        ]);
      }
    } else {
      const byNumber = new Map(answer.citations.map((c) => [c.n, c]));
      // A question of several parts is answered under each part's own question, as
      // `answer.answer` writes them: the question on a line, its answer below; each part
      // a paragraph of its own.
      const answerParts = answer.parts || []; // none in answers stored by older versions
      const text = h(answerParts.length ? "div" : "p", { class: "answer-text" });
      const withMarkers = (answerText, into) => {
        answerText.split("\n").forEach((line, i) => {
          if (i) into.appendChild(document.createTextNode("\n"));
          let last = 0;
          for (const match of line.matchAll(CITATION_MARKER)) {
            const citation = byNumber.get(Number(match[1]));
            if (!citation) continue;
            into.appendChild(document.createTextNode(line.slice(last, match.index)));
            const button = opener(
              citation,
              `c${citation.n}`,
              `Source ${citation.n}: show the cited passage`
            );
            button.className = "cite";
            button.textContent = `[${citation.n}]`;
            last = match.index + match[0].length;
            // The full stop after a marker stays on its line: "[1]" then "." alone below.
            const punctuation = line.slice(last).match(TRAILING_PUNCTUATION)[0];
            into.appendChild(h("span", { class: "cite-group" }, button, punctuation));
            last += punctuation.length;
          }
          into.appendChild(document.createTextNode(line.slice(last)));
        });
      };
      if (answerParts.length) {
        for (const part of answerParts) {
          const paragraph = h("p", { class: "answer-part" });
          append(paragraph, [h("strong", { class: "part-question" }, part.question), "\n"]);
          withMarkers(part.answer, paragraph);
          text.appendChild(paragraph);
        }
      } else {
        withMarkers(answer.answer, text);
      }
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
      append(article, [viewerHome, viewer]);
      if (answer.citations.length) {
        // Sources all in one report name it once, above them: its title is often longer
        // than the sections that tell the sources apart.
        const titles = new Set(answer.citations.map((c) => c.doc_title || c.doc));
        const oneReport = titles.size === 1 ? [...titles][0] : null;
        const list = h("ol", { class: "sources" });
        for (const citation of answer.citations) {
          const button = opener(citation, `c${citation.n}`, null);
          button.className = "source";
          append(button, [describeSource(citation, !oneReport)]);
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
        const heading = oneReport
          ? h("p", { class: "sources-heading" }, "Sources, all in ", h("cite", {}, oneReport))
          : h("p", { class: "sources-heading" }, "Sources");
        append(article, [heading, list]);
      }
    }
    const copyButton = h("button", { type: "button", class: "copy" }, "Copy answer with references");
    copyButton.addEventListener("click", () => context.onCopy(answer, copyButton));
    article.appendChild(h("div", { class: "actions" }, copyButton));
    return article;
  }

  /* Show `source` in `viewer` (a citation: with its quote highlighted), or hide it when the
     same source is already shown. */
  function togglePassage(viewer, toggles, button, source, key, context) {
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
    viewer.replaceChildren(...renderPassage(source, viewer, toggles, button, context));
    viewer.dataset.key = key;
    viewer.setAttribute("aria-label", `Passage ${source.anchor}`);
    viewer.hidden = false;
    viewer.scrollIntoView({ block: "nearest" });
  }

  /* Where a passage stands in its document: "Section: …" and "Page N", those it has. */
  function passagePlace(passage) {
    const place = [];
    if (ownSection(passage)) place.push(`Section: ${passage.section}`);
    if (passage.page !== null && passage.page !== undefined) place.push(`Page ${passage.page}`);
    return place;
  }

  /* A passage's text with `quote` highlighted in it; when the quote cannot be found there,
     the text as it is and the quote on a line of its own after it. */
  function quotedText(text, quote) {
    const paragraph = h("p", { class: "text" });
    const span = quote ? locateQuote(text, quote) : null;
    if (span) {
      append(paragraph, [
        text.slice(0, span[0]),
        h("mark", {}, text.slice(span[0], span[1])),
        text.slice(span[1]),
      ]);
    } else {
      paragraph.textContent = text;
    }
    const apart = quote && !span ? h("p", { class: "quote" }, `Supporting quote: ${quote}`) : null;
    return [paragraph, apart];
  }

  function renderPassage(source, viewer, toggles, button, context) {
    const meta = passagePlace(source);
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
      ...quotedText(source.text, source.quote),
      h(
        "p",
        { class: "links" },
        h(
          "a",
          {
            href: context.passageHref(source.anchor, source.quote || ""),
            onclick: (event) => context.onOpenPassage(event, source.anchor, source.quote || ""),
          },
          `Open passage ${source.anchor}`
        ),
        close
      ),
    ].filter(Boolean);
  }

  /* The box saying what went wrong (a ChatError); "Try again" calls onRetry(box). */
  function renderError(error, onRetry) {
    const retry = h("button", { type: "button", class: "retry" }, "Try again");
    const box = h(
      "div",
      { class: "turn error", role: "alert", "data-kind": error.kind },
      h("p", { class: "error-title" }, error.title),
      error.detail ? h("p", {}, error.detail) : null,
      h("div", { class: "actions" }, retry)
    );
    retry.addEventListener("click", () => onRetry(box));
    return box;
  }

  parts.answers = { renderQuestion, renderAnswer, renderError, passagePlace, quotedText };
})(window.GcmRagChat.parts);
