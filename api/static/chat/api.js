/* Talking to the assistant's API: a question to POST /api/ask with "stream": true, its
   server-sent events read from the fetch body (EventSource cannot POST), failures turned
   into `ChatError`s the reader can act on, the question limit (GET /api/health) and the
   indexed documents (GET /api/documents) the chat needs before asking, and a cited passage
   (GET /api/passages/{anchor}). */
(function (parts) {
  "use strict";

  if (parts.api) return;

  const { sentence } = parts.text;

  /* A failure the chat explains to the reader: `kind` picks the wording. */
  class ChatError extends Error {
    constructor(kind, title, detail, retryAfter, reason) {
      super(detail ? `${title} ${detail}` : title);
      this.kind = kind; // unreachable, busy, invalid, too_long, unauthorized, unavailable, interrupted
      this.title = title;
      this.detail = detail || "";
      this.retryAfter = retryAfter || null;
      // unauthorized: "key_required" (none was sent) or "key_rejected" (a wrong one was).
      this.reason = reason || null;
    }
  }

  /* The access key, when the chat has one, as a header: never in a URL, which servers and
     proxies log. */
  function keyHeaders(options) {
    return options.apiKey ? { "X-API-Key": options.apiKey } : {};
  }

  function requestHeaders(options) {
    return {
      "Content-Type": "application/json",
      Accept: "text/event-stream",
      ...keyHeaders(options),
    };
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
      // In the reader's words, not the API's header instructions: the chat asks for the key
      // itself (access.js), in a form under the conversation.
      if (body.rule === "api_key_invalid") {
        return new ChatError(
          "unauthorized",
          "The access key was not accepted.",
          "Check it, or ask your administrator for a new one, and enter it below.",
          null,
          "key_rejected"
        );
      }
      return new ChatError(
        "unauthorized",
        "This assistant needs an access key.",
        "Ask your administrator for one, and enter it below.",
        null,
        "key_required"
      );
    }
    if (response.status >= 400 && response.status < 500) {
      return new ChatError("invalid", "The question could not be answered as sent.", detail);
    }
    return new ChatError("unavailable", "The assistant cannot answer right now.", detail);
  }

  /* Read `text/event-stream` blocks ("event: NAME", "data: JSON", blank line) as they arrive.
     Lines may end in "\n", "\r\n" or "\r". */
  async function readEventStream(body, onEvent) {
    const reader = body.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      buffer += done ? decoder.decode() : decoder.decode(value, { stream: true });
      // A "\r" that ends a piece may be the first half of a "\r\n" split between pieces:
      // read on its own it would end one line more, and cut an event in two.
      const held = !done && buffer.endsWith("\r") ? "\r" : "";
      buffer = buffer.slice(0, buffer.length - held.length).replace(/\r\n?/g, "\n");
      let boundary;
      while ((boundary = buffer.indexOf("\n\n")) >= 0) {
        dispatchEventBlock(buffer.slice(0, boundary), onEvent);
        buffer = buffer.slice(boundary + 2);
      }
      buffer += held;
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

  /* The longest question the API accepts (`max_question_chars` of GET /api/health), or null
     when the server does not say. Health needs no key and sends no preflight. */
  async function fetchQuestionLimit(options) {
    try {
      const response = await fetch(`${options.baseUrl}/api/health`);
      const health = response.ok ? await response.json() : {};
      return Number.isInteger(health.max_question_chars) ? health.max_question_chars : null;
    } catch (_) {
      return null;
    }
  }

  /* The indexed documents as [{doc, title}] (GET /api/documents): none when the server
     cannot list them (no index yet); rejected with an "unauthorized" ChatError when it wants
     an access key, and with a TypeError when it cannot be reached. */
  async function fetchDocuments(options) {
    const response = await fetch(`${options.baseUrl}/api/documents`, {
      headers: keyHeaders(options),
    });
    if (response.status === 401 || response.status === 403) {
      throw await errorFromResponse(response);
    }
    const body = response.ok ? await response.json() : { documents: [] };
    return body.documents.map((d) => ({ doc: d.doc, title: d.title || d.doc }));
  }

  function passageUrl(baseUrl, anchor) {
    // '#' must travel as %23: a bare '#' would start the URL's fragment.
    return `${baseUrl}/api/passages/${encodeURIComponent(anchor)}`;
  }

  /* The passage at `anchor` (GET /api/passages/{anchor}: its document, section, text and
     neighbours), asked with the access key like every question; rejected with a ChatError. */
  async function fetchPassage(options, anchor) {
    let response;
    try {
      response = await fetch(passageUrl(options.baseUrl, anchor), {
        headers: keyHeaders(options),
      });
    } catch (_) {
      throw new ChatError(
        "unreachable",
        "The assistant cannot be reached.",
        "The server may be stopped or the network down. Try again in a moment."
      );
    }
    if (response.status === 404) {
      throw new ChatError(
        "not_found",
        "This passage is not in the index.",
        "The reports may have been indexed again since it was cited; ask the question again."
      );
    }
    if (!response.ok) throw await errorFromResponse(response);
    return response.json();
  }

  parts.api = {
    ChatError,
    askStreaming,
    readEventStream,
    fetchQuestionLimit,
    fetchDocuments,
    fetchPassage,
  };
})(window.GcmRagChat.parts);
