/* The chat's plain text, without the DOM: wording shared by several parts, numbers and
   lengths as the API counts them, where a citation's quote is in its passage, and an answer
   with its references as text for a briefing note. */
(function (parts) {
  "use strict";

  if (parts.text) return;

  const ABSTENTION_HEADING = "The indexed reports do not answer this";

  /* `text` as a sentence: trimmed, starting with a capital (the API's messages start in
     lower case, to follow a field name), with a full stop unless it ends with one. */
  function sentence(text) {
    text = (text || "").trim();
    if (!text) return "";
    text = text.charAt(0).toUpperCase() + text.slice(1);
    return /[.!?]$/.test(text) ? text : `${text}.`;
  }

  /* Numbers as the chat's messages write them: 2000 as "2,000". */
  function formatNumber(number) {
    return number.toLocaleString("en");
  }

  /* Characters as the API counts them (code points: an emoji is one, not two). */
  function characters(text) {
    return [...text].length;
  }

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

  /* The section of a passage or citation, or null when it has none or its section is the
     document's title (a report whose first heading is its title): said once is enough. */
  function ownSection(source) {
    const plain = (text) => (text || "").replace(/\s+/g, " ").trim().toLowerCase();
    const section = plain(source.section);
    return section && section !== plain(source.doc_title) ? source.section : null;
  }

  /* A passage's or citation's place: document (unless `withTitle` is false), section, page;
     with none of them, "the opening of the report". */
  function describeSource(source, withTitle = true) {
    const place = withTitle ? [source.doc_title || source.doc] : [];
    if (ownSection(source)) place.push(source.section);
    if (source.page !== null && source.page !== undefined) place.push(`p. ${source.page}`);
    return place.length ? place.join(" — ") : "The opening of the report";
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
    lines.push(`Answer: ${answer.answer}`);
    // An answer about the collection itself comes from the index's records and cites none.
    if (answer.citations.length) lines.push("", "References:");
    for (const citation of answer.citations) {
      lines.push(`[${citation.n}] ${describeSource(citation)}, ${citation.anchor}`);
      lines.push(`    "${citation.quote}"`);
    }
    return lines.join("\n");
  }

  parts.text = {
    ABSTENTION_HEADING,
    sentence,
    formatNumber,
    characters,
    locateQuote,
    describeSource,
    ownSection,
    answerWithReferences,
  };
})(window.GcmRagChat.parts);
